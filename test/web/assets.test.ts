/**
 * The bundled web applications (src/api/web/assets.generated.ts) are the build of the sources in src/web/: a change
 * to a client file without `bun scripts/build-web.ts` fails here, like stale embedded migrations do.
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { renderWebAssets, WEB_ASSETS_FILE } from "../../scripts/build-web.ts";

test(
  "src/api/web/assets.generated.ts is current (run `bun scripts/build-web.ts` after changing src/web/)",
  async () => {
    expect(readFileSync(WEB_ASSETS_FILE, "utf8") === await renderWebAssets()).toBe(true);
  },
  60_000,
);

test("the bundles carry no reference to a CDN or any other host", () => {
  const text = readFileSync(WEB_ASSETS_FILE, "utf8");
  // Preact and DOMPurify name their websites and namespaces in strings; no script or style is fetched from anywhere.
  expect(text).not.toMatch(/\b(?:import|from)\s*\(?\s*["']https?:/);
  expect(text).not.toMatch(/@import\s+url\(\s*["']?https?:/);
});
