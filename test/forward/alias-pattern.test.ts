/** Pattern aliases (issue 19): `*` wildcards in the local part, and which pattern wins. */
import { describe, expect, test } from "bun:test";
import { bestPattern, isAliasPattern, matchesPattern } from "../../src/forward/alias-pattern.ts";

describe("alias patterns", () => {
  test("a * is any run of characters, even none; the rest is literal", () => {
    expect(isAliasPattern("shop-*@example.com")).toBe(true);
    expect(isAliasPattern("shop@example.com")).toBe(false);
    expect(isAliasPattern("@example.com")).toBe(false);
    expect(matchesPattern("shop-*", "shop-amazon")).toBe(true);
    expect(matchesPattern("shop-*", "shop-")).toBe(true);
    expect(matchesPattern("shop-*", "shopping")).toBe(false);
    expect(matchesPattern("*.news", "weekly.news")).toBe(true);
    expect(matchesPattern("*.news", "weeklyXnews")).toBe(false); // "." is literal, not a regex
    expect(matchesPattern("a+b*", "a+bc")).toBe(true);
    expect(matchesPattern("a+b*", "aab")).toBe(false);
    expect(matchesPattern("*-*", "x-y")).toBe(true);
  });

  test("the most specific pattern wins, whatever the order they come in", () => {
    const patterns = [{ address: "*@x.test" }, { address: "shop-*@x.test" }, { address: "shop-*-eu@x.test" }];
    for (const order of [patterns, [...patterns].reverse()]) {
      expect(bestPattern(order, "shop-amazon-eu")?.address).toBe("shop-*-eu@x.test");
      expect(bestPattern(order, "SHOP-amazon")?.address).toBe("shop-*@x.test");
      expect(bestPattern(order, "other")?.address).toBe("*@x.test");
    }
    expect(bestPattern([{ address: "shop-*@x.test" }], "nope")).toBeUndefined();
    // Equally specific: the first in sort order, so the answer is stable.
    expect(bestPattern([{ address: "*b@x.test" }, { address: "a*@x.test" }], "ab")?.address).toBe("*b@x.test");
  });
});
