import { describe, expect, test } from "bun:test";
import { LineFramer } from "../../src/net/line-framer.ts";
import type { LineResult } from "../../src/connection.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

type Item = string | { tooLong: number } | { bytes: string };

/** Feeds `input` cut into chunks of `size` bytes and reads according to `plan`. */
function frame(input: string, size: number, plan: Array<"line" | number>, max = 16): Item[] {
  const framer = new LineFramer();
  const bytes = enc.encode(input);
  const out: Item[] = [];
  let offset = 0;
  let step = 0;
  while (step < plan.length) {
    const want = plan[step]!;
    const got = want === "line" ? framer.readLine(max) : framer.readBytes(want);
    if (got === undefined) {
      if (offset >= bytes.length) break;
      framer.push(bytes.subarray(offset, offset + size));
      offset += size;
      continue;
    }
    step++;
    if (got instanceof Uint8Array) out.push({ bytes: dec.decode(got) });
    else out.push(describeLine(got));
  }
  return out;
}

function describeLine(line: LineResult): Item {
  if (line.kind === "too-long") return { tooLong: line.length };
  return dec.decode(line.bytes) + (line.crlf ? "⏎" : "↵");
}

describe("LineFramer", () => {
  const input = "EHLO client\r\nMAIL FROM:<a@b>\r\nbare\nlast\r\n";
  const expected = ["EHLO client⏎", "MAIL FROM:<a@b>⏎", "bare↵", "last⏎"];

  test("gives the same lines whatever the chunk size, from 1 byte to all at once", () => {
    for (let size = 1; size <= input.length; size++) {
      expect(frame(input, size, ["line", "line", "line", "line"], 64)).toEqual(expected);
    }
  });

  test("several lines in one chunk come out one at a time", () => {
    const framer = new LineFramer();
    framer.push(enc.encode("a\r\nb\r\nc"));
    expect(framer.hasLine()).toBe(true);
    expect(describeLine(framer.readLine(10)!)).toBe("a⏎");
    expect(describeLine(framer.readLine(10)!)).toBe("b⏎");
    expect(framer.hasLine()).toBe(false);
    expect(framer.readLine(10)).toBeUndefined();
    framer.push(enc.encode("\r\n"));
    expect(describeLine(framer.readLine(10)!)).toBe("c⏎");
  });

  test("an over-long line is reported with its length and the next line is intact", () => {
    const long = "x".repeat(100);
    const stream = `ok\r\n${long}\r\nafter\r\n`;
    for (let size = 1; size <= stream.length; size += 7) {
      expect(frame(stream, size, ["line", "line", "line"], 16)).toEqual(["ok⏎", { tooLong: 100 }, "after⏎"]);
    }
  });

  test("a line of exactly the limit is accepted, one byte more is not", () => {
    expect(frame(`${"y".repeat(16)}\r\n`, 5, ["line"], 16)).toEqual([`${"y".repeat(16)}⏎`]);
    expect(frame(`${"y".repeat(17)}\r\n`, 5, ["line"], 16)).toEqual([{ tooLong: 17 }]);
  });

  test("an endless line without LF does not grow the buffer past the limit", () => {
    const framer = new LineFramer();
    for (let i = 0; i < 1000; i++) {
      framer.push(enc.encode("z".repeat(1000)));
      expect(framer.readLine(100)).toBeUndefined();
      expect(framer.length).toBeLessThanOrEqual(1101);
    }
    framer.push(enc.encode("\r\nnext\r\n"));
    expect(framer.readLine(100)).toEqual({ kind: "too-long", length: 1_000_000, crlf: true });
    expect(describeLine(framer.readLine(100)!)).toBe("next⏎");
  });

  test("once an over-long line is being dropped, later chunks are counted, not buffered", () => {
    const framer = new LineFramer();
    framer.push(enc.encode("z".repeat(200)));
    expect(framer.readLine(100)).toBeUndefined();
    // Several chunks before the reader looks again (a fast peer): none of them is kept.
    for (let i = 0; i < 50; i++) {
      framer.push(enc.encode("z".repeat(64 * 1024 - 1) + (i === 49 ? "\r" : "z")));
      expect(framer.length).toBe(1);
    }
    framer.push(enc.encode("\nnext\r\n"));
    expect(framer.readLine(100)).toEqual({ kind: "too-long", length: 200 + 50 * 64 * 1024 - 1, crlf: true });
    expect(describeLine(framer.readLine(100)!)).toBe("next⏎");
  });

  test("a byte-count read straddling chunks, then lines again", () => {
    const stream = "BDAT 10\r\n0123456789QUIT\r\n";
    for (let size = 1; size <= stream.length; size++) {
      expect(frame(stream, size, ["line", 10, "line"], 64)).toEqual(["BDAT 10⏎", { bytes: "0123456789" }, "QUIT⏎"]);
    }
  });

  test("a byte count may contain CRLF and NUL bytes", () => {
    expect(frame("{5}\r\na\r\n\0b)\r\n", 3, ["line", 5, "line"], 64)).toEqual([
      "{5}⏎",
      { bytes: "a\r\n\0b" },
      ")⏎",
    ]);
  });

  test("skip drops buffered bytes and clear forgets everything", () => {
    const framer = new LineFramer();
    framer.push(enc.encode("abcdef\r\n"));
    expect(framer.skip(3)).toBe(3);
    expect(describeLine(framer.readLine(10)!)).toBe("def⏎");
    framer.push(enc.encode("injected\r\n"));
    framer.clear();
    expect(framer.length).toBe(0);
    expect(framer.readLine(10)).toBeUndefined();
  });

  test("a CR at the end of one chunk and LF at the start of the next make one CRLF", () => {
    const framer = new LineFramer();
    framer.push(enc.encode("abc\r"));
    expect(framer.readLine(10)).toBeUndefined();
    framer.push(enc.encode("\ndef"));
    expect(describeLine(framer.readLine(10)!)).toBe("abc⏎");
  });
});
