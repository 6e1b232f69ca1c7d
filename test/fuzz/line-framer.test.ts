/**
 * Properties of `LineFramer` (src/net/line-framer.ts), the LF framing under every protocol:
 *
 * - arbitrary bytes cut into arbitrary chunks frame into exactly the lines of a plain reference
 *   splitter (split on LF, CR before LF removed, lines over the limit reported as too-long with
 *   their length), so the result cannot depend on how the bytes arrived;
 * - `hasLine()` agrees with `readLine()`, and while no line is complete the buffer never holds
 *   more than the limit plus one byte (a hostile peer cannot grow it);
 * - a plan of interleaved line reads, exact byte reads (literals, BDAT) and skips gives the
 *   same results whether the stream comes in one piece or in chunks.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LineFramer } from "../../src/net/line-framer.ts";
import type { LineResult } from "../../src/connection.ts";
import { binary, bytes, cuts, junk, settings, split, TEST_TIMEOUT_MS, wire } from "./arbitraries.ts";

type Framed = { line: string; crlf: boolean } | { tooLong: number } | { bytes: string } | { skipped: number };

const show = (
  r: LineResult,
): Framed => (r.kind === "line" ? { line: binary(r.bytes), crlf: r.crlf } : { tooLong: r.length });

/** The framing rules written the obvious way, over the whole stream at once. */
function referenceLines(stream: Uint8Array, max: number): Framed[] {
  const out: Framed[] = [];
  let start = 0;
  for (let lf = stream.indexOf(0x0a); lf !== -1; lf = stream.indexOf(0x0a, start)) {
    const crlf = lf > start && stream[lf - 1] === 0x0d;
    const content = stream.subarray(start, crlf ? lf - 1 : lf);
    out.push(content.length > max ? { tooLong: content.length } : { line: binary(content), crlf });
    start = lf + 1;
  }
  return out;
}

/** Streams with line structure: short junk lines, long runs, every kind of line end. */
const lineStream = fc
  .array(
    fc.tuple(
      fc.oneof(junk(20), fc.nat(300).map((n) => "y".repeat(n))),
      fc.constantFrom("\r\n", "\r\n", "\n", "\r", "", "\r\r\n"),
    ),
    { maxLength: 24 },
  )
  .map((lines) => wire(lines.map(([text, end]) => text + end).join("")));

const stream = fc.oneof(bytes(600), lineStream);
const limit = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 400 }));

describe("LineFramer properties", () => {
  test("chunked input frames into the reference lines; hasLine is truthful; the buffer stays bounded", () => {
    fc.assert(
      fc.property(stream, cuts, limit, (input, how, max) => {
        const framer = new LineFramer();
        const out: Framed[] = [];
        for (const chunk of split(input, how)) {
          framer.push(chunk);
          for (;;) {
            const announced = framer.hasLine();
            const line = framer.readLine(max);
            expect(line !== undefined).toBe(announced);
            if (!line) {
              expect(framer.length).toBeLessThanOrEqual(max + 1);
              break;
            }
            out.push(show(line));
          }
        }
        expect(out).toEqual(referenceLines(input, max));
      }),
      settings(2),
    );
  }, TEST_TIMEOUT_MS);

  type Op = { read: "line"; max: number } | { read: "bytes"; count: number } | { read: "skip"; count: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.record({ read: fc.constant("line" as const), max: limit }), weight: 3 },
    fc.record({ read: fc.constant("bytes" as const), count: fc.nat(60) }),
    fc.record({ read: fc.constant("skip" as const), count: fc.nat(60) }),
  );

  /** Carries out the plan, pushing the next chunk only when a read cannot be answered yet (as the connection does). */
  function runPlan(chunks: Uint8Array[], plan: Op[]): Framed[] {
    const framer = new LineFramer();
    const out: Framed[] = [];
    let next = 0;
    for (const step of plan) {
      let left = step.read === "skip" ? step.count : 0;
      for (;;) {
        if (step.read === "line") {
          const line = framer.readLine(step.max);
          if (line) {
            out.push(show(line));
            break;
          }
        } else if (step.read === "bytes") {
          const got = framer.readBytes(step.count);
          if (got) {
            out.push({ bytes: binary(got) });
            break;
          }
        } else {
          left -= framer.skip(left);
          if (left === 0) {
            out.push({ skipped: step.count });
            break;
          }
        }
        if (next >= chunks.length) return out;
        framer.push(chunks[next++]!);
      }
    }
    return out;
  }

  test("interleaved line reads, byte reads and skips do not depend on the chunking", () => {
    fc.assert(
      fc.property(stream, cuts, fc.array(op, { maxLength: 30 }), (input, how, plan) => {
        expect(runPlan(split(input, how), plan)).toEqual(runPlan([input], plan));
      }),
      settings(2),
    );
  }, TEST_TIMEOUT_MS);
});
