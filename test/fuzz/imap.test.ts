/**
 * Properties of IMAP command input: `CommandReader` (src/imap/command-reader.ts, literals of
 * RFC 9051 §4.3, RFC 7888 and RFC 3516) behind `LineFramer`, driven as src/imap/server.ts drives
 * it (see imap-wire.ts), and the command parser (src/imap/parser.ts).
 *
 * - arbitrary bytes and near-valid command streams never make the reader or the parser throw or
 *   hang; literals asked for stay within the limit; a parse error is a value with a message and
 *   a tag that is an atom (or none), and the BAD text carries no line break;
 * - chunking independence: the same stream in arbitrary chunks gives the same continuations,
 *   errors and assembled commands as in one piece;
 * - generated commands with literals of every form come out of the reader exactly: the text
 *   with one placeholder per literal, and the literal bytes;
 * - SEARCH keys nest up to MAX_SEARCH_DEPTH; deeper nesting gets BAD, not a stack overflow.
 *
 * Bugs these properties found, now fixed: a modified UTF-7 name with 4n+1 base64 letters threw
 * out of the parser; a NUL in a command line was taken for a literal placeholder; a BAD quoted a
 * bare CR back; SEARCH nesting within a 64 KiB line overflowed the stack.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LITERAL_PLACEHOLDER } from "../../src/imap/command-reader.ts";
import { parseCommand, type ParseResult } from "../../src/imap/parser.ts";
import { MAX_SEARCH_DEPTH } from "../../src/imap/search.ts";
import { bytes, cuts, junk, settings, split, TEST_TIMEOUT_MS, wire } from "./arbitraries.ts";
import { clientStream, commandPieces, ImapWire, type Literal, READER, serialize } from "./imap-wire.ts";

const input = fc.oneof({ arbitrary: clientStream.map(wire), weight: 3 }, { arbitrary: bytes(800), weight: 1 });
const lineLimit = fc.constantFrom(64, 1000, 8192);

/** atom = 1*ATOM-CHAR (RFC 9051 §9); the parser reads the tag as an atom. */
const ATOM = /^[^(){ \x00-\x1f\x7f%*"\\\]]+$/;

function expectParseValue(result: ParseResult): void {
  if (result.ok) {
    expect(result.command.tag).toMatch(ATOM);
    expect(result.command.tag).not.toBe("+");
  } else {
    expect(typeof result.message).toBe("string");
    expect(result.message.length).toBeGreaterThan(0);
    if (result.tag !== null) expect(result.tag).toMatch(ATOM);
  }
}

describe("IMAP command reader and parser properties", () => {
  test("arbitrary and near-valid input never throws or hangs; literals stay in the limit; errors are values", () => {
    fc.assert(
      fc.property(input, cuts, lineLimit, fc.boolean(), (stream, how, maxLine, utf8Accept) => {
        const w = new ImapWire(maxLine);
        for (const chunk of split(stream, how)) w.push(chunk);
        for (const raw of w.commands) {
          expect(raw.literals.every((l) => l.length <= READER.maxLiteralSize)).toBe(true);
          expectParseValue(parseCommand(raw, { utf8Accept }));
        }
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);

  test("BAD replies carry no CR or LF in their text", () => {
    fc.assert(
      fc.property(input, (stream) => {
        const w = new ImapWire();
        w.push(stream);
        for (const raw of w.commands) {
          const result = parseCommand(raw, { utf8Accept: false });
          if (!result.ok) expect(`${result.tag ?? "*"} BAD ${result.message}`).not.toMatch(/[\r\n]/);
        }
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);

  test("reader errors (BAD, NO [TOOBIG]) carry no CR or LF in their text", () => {
    fc.assert(
      fc.property(input, lineLimit, (stream, maxLine) => {
        const w = new ImapWire(maxLine);
        w.push(stream);
        for (const event of w.events) if ("reply" in event) expect(event.reply).not.toMatch(/[\r\n]/);
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);

  test("the same stream in arbitrary chunks gives the same continuations, errors and commands", () => {
    fc.assert(
      fc.property(clientStream.map(wire), cuts, lineLimit, (stream, how, maxLine) => {
        const whole = new ImapWire(maxLine);
        whole.push(stream);
        const chunked = new ImapWire(maxLine);
        for (const chunk of split(stream, how)) chunked.push(chunk);
        expect(chunked.events).toEqual(whole.events);
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);

  test("commands with literals of every form come out exactly: one placeholder per literal", () => {
    // Text without CR, LF, NUL, "~" or braces, so no text can be taken for a literal announcement.
    const text = fc.stringMatching(/^[A-Za-z0-9 ()"\\.*%$-]{0,16}$/);
    const literal: fc.Arbitrary<Literal> = fc.record({
      binary: fc.boolean(),
      mode: fc.constantFrom("" as const, "+" as const, "-" as const),
      data: junk(120),
    }).map((l) => {
      // NUL only in binary literals: a plain literal with NUL is refused (command-reader.ts).
      const data = l.binary ? l.data : l.data.replaceAll("\0", "");
      return { ...l, data, announced: data.length };
    });
    const command = fc.tuple(text, fc.array(fc.tuple(literal, text), { maxLength: 4 }));
    fc.assert(
      fc.property(fc.array(command, { minLength: 1, maxLength: 4 }), cuts, (commands, how) => {
        const stream = commands.map(([first, rest]) => serialize([first, ...rest.flat()])).join("");
        const w = new ImapWire();
        for (const chunk of split(wire(stream), how)) w.push(chunk);
        const expected = commands.map(([first, rest]) => ({
          command: {
            text: first + rest.map(([, t]) => LITERAL_PLACEHOLDER + t).join(""),
            literals: rest.map(([l]) => l.data),
          },
        }));
        expect(w.events.filter((e) => "command" in e)).toEqual(expected);
        expect(w.events.filter((e) => "continuation" in e).length).toBe(
          commands.flatMap(([, r]) => r).filter(([l]) => l.mode === "").length,
        );
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);

  test(
    "parseCommand on generated commands with matching literals never throws (mailbox names in modified UTF-7 included)",
    () => {
      fc.assert(
        fc.property(commandPieces, fc.boolean(), (pieces, utf8Accept) => {
          const text = pieces.map((p) => (typeof p === "string" ? p : LITERAL_PLACEHOLDER)).join("");
          const literals = pieces.filter((p): p is Literal => typeof p !== "string").map((l) => wire(l.data));
          const raw = { text: text.replaceAll(/[\r\n]/g, " "), literals };
          expectParseValue(parseCommand(raw, { utf8Accept }));
        }),
        settings(4),
      );
    },
    TEST_TIMEOUT_MS,
  );

  /** A SEARCH nested `depth` times with "(", "NOT " or "OR ALL ", within a 65,536-octet line, and its depth. */
  const nestedSearch = (depth: fc.Arbitrary<number>) =>
    fc.tuple(fc.constantFrom("(", "NOT ", "OR ALL "), depth).map(([open, depth]): [string, number] => {
      const n = Math.min(depth, Math.floor(65_000 / (open.length + 1)));
      return [`a1 SEARCH ${open.repeat(n)}ALL${open === "(" ? ")".repeat(n) : ""}`, n];
    });

  test(
    `SEARCH keys nested up to ${MAX_SEARCH_DEPTH} deep parse; deeper ones, to the 65,536-octet line, get BAD, never a throw`,
    () => {
      fc.assert(
        fc.property(nestedSearch(fc.integer({ min: 1, max: 21_000 })), ([text, depth]) => {
          const result = parseCommand({ text, literals: [] }, { utf8Accept: false });
          expectParseValue(result);
          expect(result.ok).toBe(depth <= MAX_SEARCH_DEPTH);
        }),
        settings(0.25),
      );
    },
    TEST_TIMEOUT_MS,
  );

  test("an assembled command has exactly one placeholder per literal", () => {
    fc.assert(
      fc.property(input, (stream) => {
        const w = new ImapWire();
        w.push(stream);
        for (const raw of w.commands) expect(raw.text.split(LITERAL_PLACEHOLDER).length - 1).toBe(raw.literals.length);
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);
});
