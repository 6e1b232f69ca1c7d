/**
 * Issue 20, item 9: `npm install` on Node 20 printed engine warnings. The README and package.json `engines` name the
 * Node version every installed package accepts: the highest `>=` bound among their `engines.node`.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dirname, "..", "..");

/** `>=22.19.0` → [22, 19, 0]; other forms (ranges, `*`) are not lower bounds we need to name. */
function lowerBound(range: string): number[] | null {
  const m = /^>=\s*v?(\d+)(?:\.(\d+))?(?:\.(\d+))?$/.exec(range.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : null;
}

const newer = (a: number[], b: number[]) => a[0]! - b[0]! || a[1]! - b[1]! || a[2]! - b[2]!;

function highestBound(): { version: number[]; packages: string[] } {
  const modules = join(root, "node_modules");
  const dirs = readdirSync(modules).flatMap((name) =>
    name.startsWith("@") ? readdirSync(join(modules, name)).map((sub) => `${name}/${sub}`) : [name]
  );
  let best = { version: [0, 0, 0], packages: [] as string[] };
  for (const dir of dirs) {
    const file = join(modules, dir, "package.json");
    if (!existsSync(file)) continue;
    const range = (JSON.parse(readFileSync(file, "utf8")).engines?.node ?? "") as string;
    const bound = lowerBound(range);
    if (!bound) continue;
    const order = newer(bound, best.version);
    if (order > 0) best = { version: bound, packages: [dir] };
    else if (order === 0) best.packages.push(dir);
  }
  return best;
}

describe("the Node version", () => {
  test("package.json engines and the README name the highest bound of the installed packages", () => {
    const { version, packages } = highestBound();
    const wanted = `${version[0]}.${version[1]}`;
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
    expect(pkg.engines?.node).toBe(`>=${wanted}`);
    const readme = readFileSync(join(root, "README.md"), "utf8").split("\n").slice(0, 20).join("\n");
    expect(readme).toContain(`Node.js **${wanted} or later**`);
    for (const name of packages) expect(readme).toContain(`\`${name}\``);
  });
});
