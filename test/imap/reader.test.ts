import { describe, expect, test } from "bun:test";
import { CommandReader, type RawCommand } from "../../src/imap/command-reader.ts";
import { Cursor, ImapSyntaxError } from "../../src/imap/cursor.ts";
import { contains, formatSequenceSet, parseSequenceSet } from "../../src/imap/sequence-set.ts";
import { LineFramer } from "../../src/net/line-framer.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Feeds a byte stream, cut into chunks of `size`, through the network framer and the command
 * reader exactly as the server will, collecting commands and the continuations it had to send.
 */
function readAll(stream: string, size: number, options = { maxLiteralSize: 1000, maxCommandSize: 5000 }) {
  const framer = new LineFramer();
  const reader = new CommandReader(options);
  const bytes = enc.encode(stream);
  const out: Array<RawCommand | string> = [];
  let literal = 0;
  let discard = 0;
  const drain = () => {
    for (;;) {
      if (literal > 0) {
        const got = framer.readBytes(literal);
        if (!got) return;
        literal = 0;
        reader.pushLiteral(got);
        continue;
      }
      if (discard > 0) {
        discard -= framer.skip(discard);
        if (discard > 0) return;
        continue;
      }
      const line = framer.readLine(4096);
      if (!line || line.kind !== "line") return;
      const step = reader.pushLine(line.bytes);
      if (step?.kind === "command") out.push(step.command);
      if (step?.kind === "literal") {
        if (step.synchronizing) out.push("+");
        literal = step.size;
      }
      if (step?.kind === "error") {
        if (step.message) out.push(`ERR ${step.tag} ${step.message}`);
        discard = step.discard;
      }
    }
  };
  for (let offset = 0; offset < bytes.length; offset += size) {
    framer.push(bytes.subarray(offset, offset + size));
    drain();
  }
  return out;
}

const show = (items: Array<RawCommand | string>) =>
  items.map((
    c,
  ) => (typeof c === "string"
    ? c
    : { text: c.text.replaceAll("\0", "<L>"), literals: c.literals.map((l) => dec.decode(l)) })
  );

describe("CommandReader", () => {
  const stream = "a1 LOGIN {5}\r\nalice {6+}\r\nsecret\r\n" +
    "a2 APPEND INBOX (\\Seen) {12}\r\nHello\r\nWorld\r\n" +
    'a3 SELECT "Sent Items"\r\n' +
    "a4 APPEND Drafts ~{4+}\r\nx\0y\n\r\n";
  const expected = [
    "+",
    { text: "a1 LOGIN <L> <L>", literals: ["alice", "secret"] },
    "+",
    { text: "a2 APPEND INBOX (\\Seen) <L>", literals: ["Hello\r\nWorld"] },
    { text: 'a3 SELECT "Sent Items"', literals: [] },
    { text: "a4 APPEND Drafts <L>", literals: ["x\0y\n"] },
  ];

  test("commands with synchronising, non-synchronising and binary literals, cut at every chunk size", () => {
    for (let size = 1; size <= stream.length; size++) {
      expect(show(readAll(stream, size))).toEqual(expected);
    }
  });

  test("a synchronising literal over the limit is refused before its bytes are sent", () => {
    expect(show(readAll("t1 APPEND INBOX {5000}\r\nt2 NOOP\r\n", 7))).toEqual([
      "ERR t1 Literal too large",
      { text: "t2 NOOP", literals: [] },
    ]);
  });

  test("a non-synchronising literal over the limit is skipped with the rest of its command", () => {
    const big = "z".repeat(2000);
    expect(show(readAll(`t1 APPEND INBOX {2000+}\r\n${big} more {3+}\r\nabc\r\nt2 NOOP\r\n`, 64))).toEqual([
      "ERR t1 Literal too large",
      { text: "t2 NOOP", literals: [] },
    ]);
  });

  test("a NUL in a command line is refused, not taken for a literal (RFC 9051 §9; found by test/fuzz)", () => {
    expect(show(readAll("t1 APPEND INBOX \0\r\nt2 LOGIN \0 {3+}\r\nabc\r\nt3 NOOP\r\n", 7))).toEqual([
      "ERR t1 NUL is not allowed in a command line",
      "ERR t2 NUL is not allowed in a command line",
      { text: "t3 NOOP", literals: [] },
    ]);
  });

  test("a NUL inside a plain literal is refused with BAD; a binary literal ~{n} may carry it (RFC 9051 §4.3, RFC 3516)", () => {
    expect(show(readAll("t1 APPEND INBOX {3+}\r\na\0b\r\nt2 APPEND INBOX ~{3+}\r\na\0b\r\nt3 NOOP\r\n", 5))).toEqual([
      "ERR t1 NUL is not allowed in a literal; send it in a binary literal ~{n} (RFC 3516)",
      { text: "t2 APPEND INBOX <L>", literals: ["a\0b"] },
      { text: "t3 NOOP", literals: [] },
    ]);
  });

  test("LITERAL- refuses non-synchronising literals over 4096 octets", () => {
    const reader = new CommandReader({ maxLiteralSize: 1e6, maxCommandSize: 1e7 });
    expect(reader.pushLine(enc.encode("t1 APPEND INBOX {5000-}"))).toMatchObject({
      kind: "error",
      tag: "t1",
      discard: 5000,
      tooBig: false,
    });
  });
});

describe("Cursor", () => {
  const cursor = (text: string, literals: string[] = []) =>
    new Cursor({ text, literals: literals.map((l) => enc.encode(l)) });

  test("quoted strings with escapes, atoms, astrings, nstrings, literals", () => {
    const c = cursor('"a \\"b\\" \\\\c" atom] NIL \0', ["lit"]);
    expect(c.quoted()).toBe('a "b" \\c');
    c.sp();
    expect(c.astring()).toBe("atom]");
    c.sp();
    expect(c.nstring()).toBeNull();
    c.sp();
    expect(c.string()).toBe("lit");
    c.end();
  });

  test("nested lists", () => {
    const c = cursor("(a (b c) ())");
    const item = (): unknown => (c.peek() === "(" ? c.list(item, true) : c.atom());
    expect(c.list(item)).toEqual(["a", ["b", "c"], []]);
  });

  test("syntax errors say what was expected", () => {
    expect(() => cursor('"open').quoted()).toThrow(ImapSyntaxError);
    expect(() => cursor('"bad \\x"').quoted()).toThrow(/backslash/);
    expect(() => cursor("(a b").list(() => cursor("x").atom())).toThrow(ImapSyntaxError);
    expect(() => cursor("99999999999").number()).toThrow(/32-bit/);
    expect(() => cursor("0").nzNumber()).toThrow(/non-zero/);
  });
});

describe("sequence sets", () => {
  const parse = (text: string) => parseSequenceSet(new Cursor({ text, literals: [] }));

  test("numbers, ranges in either order, * and $", () => {
    expect(parse("1:3,7,9:*")).toEqual({
      saved: false,
      ranges: [{ start: 1, end: 3 }, { start: 7, end: 7 }, { start: 9, end: Infinity }],
    });
    expect(parse("5:2")).toEqual({ saved: false, ranges: [{ start: 2, end: 5 }] });
    expect(parse("$")).toEqual({ saved: true });
    expect(() => parse("0:3")).toThrow(ImapSyntaxError);
    expect(() => parse(",1")).toThrow(ImapSyntaxError);
  });

  test("membership with * as the largest number, without expanding huge ranges", () => {
    const set = parse("1:4294967295") as Extract<ReturnType<typeof parse>, { saved: false }>;
    expect(contains(set, 123456789, 10)).toBe(true);
    const star = parse("*:5") as Extract<ReturnType<typeof parse>, { saved: false }>;
    expect(contains(star, 7, 7)).toBe(true);
    expect(contains(star, 4, 7)).toBe(false);
    // "*" on 3 messages: 5:* means 3:5
    const upper = parse("5:*") as Extract<ReturnType<typeof parse>, { saved: false }>;
    expect(contains(upper, 3, 3)).toBe(true);
  });

  test("formatting compresses runs", () => {
    expect(formatSequenceSet([1, 2, 3, 5, 7, 8])).toBe("1:3,5,7:8");
    expect(formatSequenceSet([])).toBe("");
  });
});

describe("mailbox names", () => {
  test("modified UTF-7 both ways, & escaped, INBOX normalised", async () => {
    const { decodeMailboxName, encodeMailboxName, mailboxFromWire } = await import("../../src/imap/mailbox-name.ts");
    expect(encodeMailboxName("Entwürfe")).toBe("Entw&APw-rfe");
    expect(decodeMailboxName("Entw&APw-rfe")).toBe("Entwürfe");
    expect(encodeMailboxName("Tom & Jerry")).toBe("Tom &- Jerry");
    expect(decodeMailboxName("Tom &- Jerry")).toBe("Tom & Jerry");
    expect(encodeMailboxName("日本語/😀")).toBe("&ZeVnLIqe-/&2D3eAA-");
    expect(decodeMailboxName("&ZeVnLIqe-/&2D3eAA-")).toBe("日本語/😀");
    expect(decodeMailboxName("bad&Jjo")).toBeNull();
    expect(mailboxFromWire("inbox", false)).toBe("INBOX");
    expect(mailboxFromWire("Entwürfe", true)).toBe("Entwürfe");
  });
});
