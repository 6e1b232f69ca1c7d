/**
 * Alias features in the directory and the router (issue 19): precedence exact > pattern >
 * catch-all, disabled aliases (refused, or accepted and dropped), and the aliases' counters.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Directory } from "../../src/deliver/directory.ts";
import { route } from "../../src/deliver/route.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;

beforeEach(async () => {
  ({ store, cleanup } = await openTempStore());
  await store.domains.add("fwd.test", "forward");
  await store.aliases.add("shop-*@fwd.test", ["pattern@real.test"]);
  await store.aliases.add("shop-*-eu@fwd.test", ["eu@real.test"]);
  await store.aliases.add("shop-exact@fwd.test", ["exact@real.test"]);
  await store.aliases.add("@fwd.test", ["catchall@real.test"]);
});
afterEach(() => cleanup());

const targets = async (directory: Directory, address: string) => {
  const r = await directory.resolve(address);
  return r.kind === "alias" ? r.targets : r.kind;
};

describe("alias routing", () => {
  test("exact beats pattern beats catch-all; the more specific pattern wins; plus-tags are cut", async () => {
    const directory = new Directory(store);
    expect(await targets(directory, "shop-exact@fwd.test")).toEqual(["exact@real.test"]);
    expect(await targets(directory, "Shop-Amazon@FWD.test")).toEqual(["pattern@real.test"]);
    expect(await targets(directory, "shop-zalando-eu@fwd.test")).toEqual(["eu@real.test"]);
    expect(await targets(directory, "shop-exact+tag@fwd.test")).toEqual(["exact@real.test"]);
    expect(await targets(directory, "anyone@fwd.test")).toEqual(["catchall@real.test"]);
    expect(await directory.resolve("shop-amazon@fwd.test")).toMatchObject({ alias: "shop-*@fwd.test" });
  });

  test("a disabled alias is refused (or dropped), and its pattern or catch-all does not take over", async () => {
    await store.aliases.setDisabled("shop-exact@fwd.test", true);
    await store.aliases.setDisabled("shop-*@fwd.test", true);
    expect(await new Directory(store).resolve("shop-exact@fwd.test")).toEqual({
      kind: "disabled",
      address: "shop-exact@fwd.test",
      alias: "shop-exact@fwd.test",
      drop: false,
    });
    expect(await new Directory(store, { onDisabled: "drop" }).resolve("shop-x@fwd.test")).toMatchObject({
      kind: "disabled",
      alias: "shop-*@fwd.test",
      drop: true,
    });
    await store.aliases.setDisabled("shop-exact@fwd.test", false);
    expect(await targets(new Directory(store), "shop-exact@fwd.test")).toEqual(["exact@real.test"]);
  });

  test("routing names the aliases used and dropped; the counters count them", async () => {
    await store.aliases.setDisabled("@fwd.test", true);
    const directory = new Directory(store, { onDisabled: "drop" });
    const routing = await route(directory, [
      { address: "shop-a@fwd.test" },
      { address: "shop-exact@fwd.test" },
      { address: "someone@fwd.test" },
    ]);
    expect(routing.remote).toEqual([]);
    expect(routing.forwarded.map((r) => r.address).sort()).toEqual(["exact@real.test", "pattern@real.test"]);
    expect(routing.aliases).toEqual({ used: ["shop-*@fwd.test", "shop-exact@fwd.test"], dropped: ["@fwd.test"] });

    const at = new Date("2026-11-29T10:00:00Z");
    await store.aliases.recordUse(routing.aliases.used, "forwarded", at);
    await store.aliases.recordUse(routing.aliases.dropped, "refused", at);
    await store.aliases.recordUse(["shop-*@fwd.test"], "forwarded", at);
    const byAddress = Object.fromEntries((await store.aliases.details()).map((a) => [a.address, a]));
    expect(byAddress["shop-*@fwd.test"]).toMatchObject({ forwarded: 2, refused: 0, lastUsedAt: at });
    expect(byAddress["@fwd.test"]).toMatchObject({ forwarded: 0, refused: 1, disabled: true, lastUsedAt: at });
    expect(byAddress["shop-*-eu@fwd.test"]).toMatchObject({ forwarded: 0, refused: 0, lastUsedAt: null });
  });
});
