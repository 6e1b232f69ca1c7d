/**
 * docs/configuration.md against the schema (issue 20): the generated table is what
 * scripts/config-reference.ts makes now, the hand-written table names only keys the schema has and
 * covers every key (itself or its parent row), and every config key the README and docs/ name exists.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MARKER, referencePath, renderReference, schemaKeys } from "../../scripts/config-reference.ts";

const root = join(import.meta.dirname, "../..");
const keys = new Set(schemaKeys().map((row) => row.path));
const topLevel = new Set([...keys].filter((k) => !k.includes(".")));

/** `dkim.example.com.selector` → `dkim.<domain>.selector`: the schema's spelling of a map key. */
function known(path: string): boolean {
  if (keys.has(path)) return true;
  const parts = path.split(".");
  for (let i = 1; i < parts.length; i++) {
    for (let j = i + 1; j <= parts.length; j++) {
      if (keys.has([...parts.slice(0, i), "<domain>", ...parts.slice(j)].join("."))) return true;
    }
  }
  return false;
}

/** Key paths of the hand-written table: the first cell's code spans, `a.b` / `c` meaning `a.b` and `a.c`. */
function handTableKeys(text: string): string[] {
  const hand = text.slice(0, text.indexOf(MARKER));
  const out: string[] = [];
  for (const line of hand.split("\n")) {
    if (!line.startsWith("| `")) continue;
    let parent = "";
    for (const [, name = ""] of (line.split("|")[1] ?? "").matchAll(/`([^`]+)`/g)) {
      const path = name.includes(".") || topLevel.has(name) ? name : `${parent}.${name}`;
      parent = path.split(".").slice(0, -1).join(".");
      out.push(path);
    }
  }
  return out;
}

describe("docs/configuration.md", () => {
  const text = readFileSync(referencePath, "utf8");

  test("the generated table is up to date (bun scripts/config-reference.ts)", () => {
    expect(text).toBe(renderReference(text));
  });

  test("the hand-written table names only schema keys and covers every key", () => {
    const named = handTableKeys(text);
    expect(named.length).toBeGreaterThan(50);
    expect(named.filter((k) => !known(k))).toEqual([]);
    // A key is covered by its own row, a parent's row (`policy.greylist` gives `{delay, expiry}`), or, for a
    // group such as `limits`, the rows of its keys.
    const covered = (key: string) => named.some((n) => n === key || key.startsWith(`${n}.`) || n.startsWith(`${key}.`));
    expect([...keys].filter((k) => !covered(k) && !k.includes("<domain>"))).toEqual([]);
  });

  test("every config key named in README.md and docs/*.md exists", () => {
    const files = [
      "README.md",
      ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`),
    ];
    const unknown: string[] = [];
    for (const file of files) {
      const body = readFileSync(join(root, file), "utf8");
      for (const [, span = ""] of body.matchAll(/`([A-Za-z][\w.]*\.[A-Za-z]\w*)`/g)) {
        const top = span.split(".")[0] ?? "";
        if (!topLevel.has(top) || /\.(ts|js|md|json|db|conf|local|txt|xml|pem)$/.test(span)) continue;
        if (!known(span)) unknown.push(`${file}: ${span}`);
      }
    }
    expect(unknown).toEqual([]);
  });
});
