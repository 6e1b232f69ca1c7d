/**
 * House rule (issue 14, DESIGN.md): only src/store/ speaks SQL and publishes changes. This reads
 * every source file, so a new query or a hand-written publish elsewhere fails the suite.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname, "../..");

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((
    e,
  ) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") ? [join(dir, e.name)] : []));
}

const outside = sources(join(root, "src"))
  .map((path) => ({ path: relative(root, path), text: readFileSync(path, "utf8") }))
  .filter((f) => !f.path.startsWith("src/store/"));

describe("only src/store speaks SQL", () => {
  test("no file outside src/store imports the schema, drizzle or the libSQL driver", () => {
    const offenders = outside.filter((f) =>
      /from\s+["'](drizzle-orm[^"']*|@libsql\/client|[^"']*store\/(schema|db)\.ts)["']/.test(f.text)
    ).map((f) => f.path);
    expect(offenders).toEqual([]);
  });

  test("no file outside src/store publishes changes by hand", () => {
    expect(outside.filter((f) => /\.changes\.publish\(/.test(f.text)).map((f) => f.path)).toEqual([]);
  });

  test("no summary casts: the column is typed", () => {
    expect(outside.filter((f) => /as unknown as MessageSummary/.test(f.text)).map((f) => f.path)).toEqual([]);
  });

  test("the check sees the tree (it would catch an offender)", () => {
    expect(outside.length).toBeGreaterThan(50);
    expect(/from\s+["'](drizzle-orm[^"']*)["']/.test('import { eq } from "drizzle-orm";')).toBe(true);
  });
});
