import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { collapseStart } from "../../src/mime/preview.ts";

describe("collapseStart", () => {
  test("its first n characters are those of collapsing the whole text, whatever the white space", () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.constantFrom(" ", "\t", "\r\n", " ".repeat(3000), "\n".repeat(5000), "x".repeat(700)),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), fc.integer({ min: 1, max: 600 }), (pieces, n) => {
        const text = pieces.join("");
        const whole = text.replace(/\s+/g, " ").trim();
        expect(collapseStart(text, n).slice(0, n)).toBe(whole.slice(0, n));
      }),
      { seed: 20261129, numRuns: 300 },
    );
  });
});
