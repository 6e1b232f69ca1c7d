/**
 * The MIME writer undone by the MIME readers: encoded words, quoted-printable and base64 decode
 * to what was written, for any text or bytes; folded header lines stay short and unfold back.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeBase64Bytes, decodeQuotedPrintable } from "../../src/mime/decode.ts";
import { decodeEncodedWords } from "../../src/mime/encoded-words.ts";
import { parseParameterized } from "../../src/mime/parameters.ts";
import { base64Lines, encodedWords, headerField, is7bit, parameter, quotedPrintable } from "../../src/mime/write.ts";

const enc = new TextEncoder();

describe("MIME writer", () => {
  test("encoded words decode to the text, each at most 75 characters", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), (text) => {
      const words = encodedWords(text);
      expect(words.split("\r\n ").every((w) => w.length <= 75)).toBe(true);
      expect(decodeEncodedWords(words)).toBe(text);
    }));
  });

  test("quoted-printable decodes to the bytes, in 7-bit lines of at most 76", () => {
    const line = fc.uint8Array({ maxLength: 200 }).map((b) => b.filter((x) => x !== 0x0d && x !== 0x0a));
    fc.assert(fc.property(fc.array(line, { maxLength: 5 }), (lines) => {
      const bytes = enc.encode("");
      const joined = lines.reduce((all, l, i) => {
        const out = new Uint8Array(all.length + l.length + (i ? 2 : 0));
        out.set(all);
        if (i) out.set([0x0d, 0x0a], all.length);
        out.set(l, out.length - l.length);
        return out;
      }, bytes);
      const qp = quotedPrintable(joined);
      expect(qp.split("\r\n").every((l) => l.length <= 76)).toBe(true);
      expect(is7bit(enc.encode(qp))).toBe(true);
      expect(decodeQuotedPrintable(enc.encode(qp))).toEqual(joined);
    }));
  });

  test("base64 lines decode to the bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 1000 }), (bytes) => {
      const b64 = base64Lines(bytes);
      expect(b64.split("\r\n").every((l) => l.length <= 76)).toBe(true);
      expect(decodeBase64Bytes(enc.encode(b64))).toEqual(bytes);
    }));
  });

  test("a parameter reads back as written, RFC 2231 when not ASCII", () => {
    for (const name of ["plain.txt", "with space.pdf", 'quote " and \\', "Bericht für Kim – €.pdf"]) {
      const parsed = parseParameterized(`attachment${parameter("filename", name)}`.replace(/\r\n /g, " "));
      expect(parsed.params.filename).toBe(name);
    }
  });

  test("a header field folds before white space and unfolds to the value", () => {
    const value = Array.from({ length: 12 }, (_, i) => `word${i}`).join(" ").repeat(3);
    const field = headerField("Subject", value);
    expect(field.split("\r\n").every((l) => l.length <= 78)).toBe(true);
    expect(field.replace(/\r\n/g, "")).toBe(`Subject: ${value}`);
  });
});
