/**
 * Every relative link in README.md and docs/*.md points at a file that exists, and every `#anchor` at a heading
 * of that file (GitHub's heading ids), so moving text between pages (issue 20) cannot leave a dead link.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const root = join(import.meta.dirname, "../..");
const pages = [
  "README.md",
  ...readdirSync(join(root, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`),
];

/** Markdown outside fenced code blocks and code spans, where links are links. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
export function headingIds(text: string): Set<string> {
  const ids = new Set<string>();
  const counts = new Map<string, number>();
  const body = text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "");
  for (const [, heading = ""] of body.matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/ /g, "-");
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    ids.add(n === 0 ? base : `${base}-${n}`);
  }
  return ids;
}

describe("documentation links", () => {
  test("the pages exist", () => {
    expect(pages.length).toBeGreaterThan(10);
  });

  for (const page of pages) {
    test(`${page}: relative links and anchors resolve`, () => {
      const text = readFileSync(join(root, page), "utf8");
      const broken: string[] = [];
      for (const [, target = ""] of prose(text).matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
        if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
        const [path = "", anchor] = target.split("#", 2);
        const file = path === "" ? join(root, page) : join(root, dirname(page), decodeURIComponent(path));
        if (!existsSync(file)) {
          broken.push(`${target} (no ${relative(root, file)})`);
          continue;
        }
        if (anchor !== undefined && file.endsWith(".md") && !headingIds(readFileSync(file, "utf8")).has(anchor)) {
          broken.push(`${target} (no heading #${anchor} in ${relative(root, file)})`);
        }
      }
      expect(broken).toEqual([]);
    });
  }
});
