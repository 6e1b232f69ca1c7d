/**
 * Shared building blocks of the property-based (fast-check) protocol tests: how many runs,
 * wire bytes biased toward the octets the parsers care about, mutations that turn a valid
 * command line into a near-valid one, and arbitrary cuts of a byte stream into chunks.
 *
 * Wire data is built as "binary strings" (one char per octet, 0-255) so that invalid UTF-8,
 * NUL, bare CR and bare LF can appear anywhere; `wire()` turns them into bytes.
 *
 * `POSTERN_TEST_FUZZ_RUNS` sets the runs of each property: 200 by default, which keeps `bun test
 * test/fuzz` to a few seconds; 5,000 with POSTERN_TEST_LONG=1, the long run.
 *
 * The short run uses a fixed seed, so CI always checks the same inputs and a failure there can be
 * replayed; the long run draws a new seed each time to explore (fast-check prints the seed and
 * the shrunk counterexample of a failure). `POSTERN_TEST_FUZZ_SEED` sets the seed either way.
 */
import fc from "fast-check";

const LONG = process.env.POSTERN_TEST_LONG === "1";
const DEFAULT_RUNS = LONG ? 5000 : 200;
export const RUNS = Math.max(1, Number(process.env.POSTERN_TEST_FUZZ_RUNS ?? DEFAULT_RUNS) || DEFAULT_RUNS);
const SEED = process.env.POSTERN_TEST_FUZZ_SEED
  ? Number(process.env.POSTERN_TEST_FUZZ_SEED)
  : LONG
  ? undefined
  : 20261123;

/** Milliseconds each single run of an async property may take before it counts as a hang. */
const STEP_DEADLINE_MS = 5000;

/** fast-check parameters: `factor` scales the run count (cheap properties run more often). */
export function settings<T>(factor = 1): fc.Parameters<T> {
  return {
    numRuns: Math.max(1, Math.round(RUNS * factor)),
    ...(SEED === undefined ? {} : { seed: SEED }),
    plugins: [fc.timeout(STEP_DEADLINE_MS) as fc.Plugin<T>],
  };
}

/** bun:test timeout for one property, growing with the run count for the long variant. */
export const TEST_TIMEOUT_MS = Math.max(30_000, RUNS * 150);

/** Binary string (one char per octet) to bytes. */
export function wire(text: string): Uint8Array {
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i) & 0xff;
  return out;
}

/** Bytes to a binary string, to show failing inputs readably. */
export function binary(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += String.fromCharCode(b);
  return out;
}

/** A Unicode string as the binary string of its UTF-8 octets. */
export function utf8(text: string): string {
  return binary(new TextEncoder().encode(text));
}

export { concatBytes as concat } from "../../src/util/bytes.ts";

/** Octets with a meaning somewhere in SMTP, IMAP, POP3 or MIME syntax, plus 8-bit ones. */
const SIGNIFICANT = [
  0x00,
  0x09,
  0x0a,
  0x0d,
  0x20,
  0x22,
  0x25,
  0x26,
  0x28,
  0x29,
  0x2a,
  0x2b,
  0x2c,
  0x2d,
  0x2e,
  0x2f,
  0x3a,
  0x3b,
  0x3c,
  0x3d,
  0x3e,
  0x40,
  0x5b,
  0x5c,
  0x5d,
  0x7b,
  0x7d,
  0x7e,
  0x7f,
  0x80,
  0xc3,
  0xa9,
  0xe2,
  0xff,
];

export const octet: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 255 }), weight: 2 },
  { arbitrary: fc.constantFrom(...SIGNIFICANT), weight: 2 },
  { arbitrary: fc.integer({ min: 0x30, max: 0x7a }), weight: 1 },
);

/** Arbitrary bytes, biased toward significant octets. */
export function bytes(maxLength = 512): fc.Arbitrary<Uint8Array> {
  return fc.array(octet, { maxLength }).map((a) => Uint8Array.from(a));
}

/** A short binary string of anything: the garbage that mutations insert. */
export function junk(maxLength = 12): fc.Arbitrary<string> {
  return fc.array(octet, { maxLength }).map((a) => String.fromCharCode(...a));
}

/** A line ending as real and broken clients send them. */
export const lineEnd: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant("\r\n"), weight: 12 },
  { arbitrary: fc.constantFrom("\n", "\r", "\r\r\n", " \r\n", "\t\r\n", "\0\r\n"), weight: 1 },
);

/** Odd white space between words. */
export const space: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constant(" "), weight: 12 },
  { arbitrary: fc.constantFrom("", "  ", "\t", " \t", "\xa0", "\0", "\r", "\v"), weight: 1 },
);

/** Random letter case, as clients may send verbs and keywords in any case. */
export function anyCase(word: string): fc.Arbitrary<string> {
  return fc.oneof({ arbitrary: fc.constant(word), weight: 3 }, {
    arbitrary: fc.mixedCase(fc.constant(word)),
    weight: 1,
  });
}

type Mutation =
  | { kind: "insert"; at: number; text: string }
  | { kind: "delete"; at: number; length: number }
  | { kind: "truncate"; at: number }
  | { kind: "long"; char: string; length: number }
  | { kind: "case" };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), text: junk(6) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), length: fc.integer({ min: 1, max: 8 }) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant("long" as const),
    char: fc.constantFrom("x", " ", "(", "0", "\xff", "<", '"'),
    length: fc.integer({ min: 100, max: 3000 }),
  }),
  fc.record({ kind: fc.constant("case" as const) }),
);

function applyMutation(line: string, m: Mutation): string {
  const at = (n: number) => (line.length === 0 ? 0 : n % (line.length + 1));
  switch (m.kind) {
    case "insert":
      return line.slice(0, at(m.at)) + m.text + line.slice(at(m.at));
    case "delete":
      return line.slice(0, at(m.at)) + line.slice(at(m.at) + m.length);
    case "truncate":
      return line.slice(0, at(m.at));
    case "long":
      return line + m.char.repeat(m.length);
    case "case":
      return line === line.toLowerCase() ? line.toUpperCase() : line.toLowerCase();
  }
}

/** Mostly the line as generated, sometimes damaged by a few mutations. */
export function nearValid(line: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc.tuple(
    line,
    fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, {
      arbitrary: fc.array(mutation, { minLength: 1, maxLength: 3 }),
      weight: 1,
    }),
  )
    .map(([l, ms]) => ms.reduce(applyMutation, l));
}

/** How a stream is cut into chunks: at arbitrary offsets, or one byte at a time. */
export type Cuts = number[] | "bytewise";

export const cuts: fc.Arbitrary<Cuts> = fc.oneof(
  { arbitrary: fc.array(fc.nat(), { maxLength: 24 }), weight: 5 },
  { arbitrary: fc.constant("bytewise" as const), weight: 1 },
);

/** The stream cut as `how` says; empty chunks are kept (a read may return nothing). */
export function split(stream: Uint8Array, how: Cuts): Uint8Array[] {
  if (how === "bytewise") return Array.from(stream, (_, i) => stream.subarray(i, i + 1));
  const points = how.map((n) => n % (stream.length + 1)).sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(stream.subarray(from, p));
    from = p;
  }
  out.push(stream.subarray(from));
  return out;
}

/** A guard for loops that must make progress: throws instead of spinning forever. */
export class StepBudget {
  #left: number;
  constructor(limit: number) {
    this.#left = limit;
  }
  spend(what: string): void {
    if (--this.#left < 0) throw new Error(`no progress: ${what} did not finish within its step budget`);
  }
}
