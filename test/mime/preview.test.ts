import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { collapseStart, preview, PREVIEW_LENGTH } from "../../src/mime/preview.ts";
import { summarize } from "../../src/mime/summary.ts";
import { enc } from "./fixtures.ts";

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

describe("preview", () => {
  const previewOf = (body: string) => {
    const raw = enc.encode(`Content-Type: text/plain; charset=utf-8\r\n\r\n${body}`);
    const summary = summarize(raw);
    return summary.preview;
  };

  test("256 characters counted as code points: an astral character is one", () => {
    const text = previewOf("😀".repeat(300));
    expect(Array.from(text)).toHaveLength(PREVIEW_LENGTH);
    expect(text).toBe("😀".repeat(PREVIEW_LENGTH));
    expect(previewOf(`a${"😀".repeat(300)}`)).toBe(`a${"😀".repeat(PREVIEW_LENGTH - 1)}`);
  });

  test("white space collapsed across lines, however much of it comes first", () => {
    expect(previewOf(`${"\r\n".repeat(3000)}  one\r\n\r\n  two  `)).toBe("one two");
    const lines = Array.from({ length: 100 }, (_, i) => `${i % 10}${"X".repeat(77)}`).join("\r\n");
    expect(previewOf(lines)).toBe(lines.replace(/\r\n/g, " ").slice(0, PREVIEW_LENGTH));
  });

  test("no text part, no preview", () => {
    expect(preview(new Uint8Array(), [], [])).toBe("");
  });
});
