/**
 * IMAP fuzzing support: generators of near-valid IMAP client input (RFC 9051 commands with
 * atoms, quoted strings, literals of every form of RFC 7888 / RFC 3516, sequence sets, FETCH
 * items, SEARCH keys) and `ImapWire`, which feeds bytes chunk by chunk through `LineFramer` and
 * `CommandReader` the way src/imap/server.ts does, recording what the server would send or do.
 */
import fc from "fast-check";
import { CommandReader, type RawCommand, type ReaderOptions } from "../../src/imap/command-reader.ts";
import { LineFramer } from "../../src/net/line-framer.ts";
import { anyCase, binary, junk, lineEnd, nearValid, StepBudget, utf8, wire } from "./arbitraries.ts";

// ---------------------------------------------------------------------------------------------
// Generators

/** A literal as sent: `{n}`, `{n+}`, `{n-}`, `~{n}` (binary), with the announced size possibly wrong. */
export interface Literal {
  binary: boolean;
  mode: "" | "+" | "-";
  data: string;
  /** The size written in braces; differs from data.length when the client lies. */
  announced: number;
}

/** A command as pieces: text, and literals that end the current line. */
export type Piece = string | Literal;

export function serialize(pieces: readonly Piece[], end = "\r\n"): string {
  return pieces.map((p) => (typeof p === "string" ? p : `${p.binary ? "~" : ""}{${p.announced}${p.mode}}\r\n${p.data}`))
    .join("") + end;
}

const literal = (data: fc.Arbitrary<string>): fc.Arbitrary<Literal> =>
  fc.record({
    binary: fc.boolean(),
    mode: fc.constantFrom("" as const, "+" as const, "-" as const),
    data,
    lie: fc.option(fc.integer({ min: 0, max: 5000 }), { freq: 6 }),
  }).map(({ binary: b, mode, data: d, lie }) => ({ binary: b, mode, data: d, announced: lie ?? d.length }));

const atom = fc.stringMatching(/^[A-Za-z0-9.\-_:$!&']{1,12}$/);
const quoted = fc.oneof(junk(10), atom).map((s) => `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`);
const str: fc.Arbitrary<Piece> = fc.oneof(
  atom,
  quoted,
  fc.constantFrom('""', '"\\x"', '"open', "NIL"),
  literal(junk(20)),
);

const mailbox: fc.Arbitrary<Piece> = fc.oneof(
  fc.constantFrom(
    "INBOX",
    "inbox",
    '"Sent Items"',
    "Entw&APw-rfe",
    "&ZeVnLIqe-",
    "Tom &- Jerry",
    "&Jjo",
    "&A-",
    "&AAAA-",
    utf8("Entwürfe"),
    "a/b/c",
  ),
  str,
);

const seqSet = fc.oneof(
  fc.constantFrom("1", "1:*", "*", "$", "1,3:5,7:*", "*:5", "0", "4294967296", "1:", ",1", "2:1", "99999999999"),
  fc.array(fc.tuple(fc.nat(20), fc.option(fc.nat(20))), { minLength: 1, maxLength: 4 })
    .map((rs) => rs.map(([a, b]) => (b === null ? `${a}` : `${a}:${b}`)).join(",")),
);

const section = fc.constantFrom(
  "",
  "1",
  "1.2",
  "HEADER",
  "TEXT",
  "1.MIME",
  "MIME",
  "HEADER.FIELDS (From To)",
  "1.HEADER.FIELDS.NOT (Subject)",
  "0",
  "1.",
  "X",
);
const fetchItem = fc.oneof(
  fc.constantFrom(
    "FLAGS",
    "UID",
    "ENVELOPE",
    "BODYSTRUCTURE",
    "BODY",
    "RFC822.SIZE",
    "INTERNALDATE",
    "MODSEQ",
    "RFC822",
    "NOPE",
  ),
  fc.tuple(
    fc.constantFrom("BODY", "BODY.PEEK", "BINARY", "BINARY.PEEK", "BINARY.SIZE"),
    section,
    fc.constantFrom("", "<0.100>", "<5.0>", "<1>", "<"),
  )
    .map(([w, s, p]) => `${w}[${s}]${p}`),
);
const fetchItems = fc.oneof(
  fc.constantFrom("ALL", "FAST", "FULL"),
  fetchItem,
  fc.array(fetchItem, { maxLength: 4 }).map((items) => `(${items.join(" ")})`),
);

const searchKey: fc.Arbitrary<string> = fc.letrec<{ key: string }>((tie) => ({
  key: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(
      "ALL",
      "SEEN",
      "UNSEEN",
      "NEW",
      "OLD",
      "RECENT",
      "DELETED",
      "FLAGGED",
      "1:*",
      "$",
      "UID 1:5",
      "LARGER 100",
      "SMALLER x",
      "SINCE 1-Feb-2024",
      'BEFORE "31-Dec-2024"',
      "ON 32-Jan-2024",
      "FROM alice",
      'SUBJECT "hi there"',
      "HEADER X-Foo bar",
      "KEYWORD $label",
      "MODSEQ 5",
      'MODSEQ "/flags/\\\\draft" all 5',
      "BOGUS",
    ),
    tie("key").map((k) => `NOT ${k}`),
    fc.tuple(tie("key"), tie("key")).map(([a, b]) => `OR ${a} ${b}`),
    fc.array(tie("key"), { minLength: 1, maxLength: 3 }).map((ks) => `(${ks.join(" ")})`),
  ),
})).key;

const flag = fc.constantFrom(
  "\\Seen",
  "\\Deleted",
  "\\Draft",
  "\\Answered",
  "\\Flagged",
  "$label",
  "\\",
  "(",
  "\\Recent",
  "x]",
);
const flagList = fc.array(flag, { maxLength: 3 }).map((fs) => `(${fs.join(" ")})`);
const date = fc.constantFrom(
  '"05-Feb-2024 10:30:00 +0100"',
  '" 5-Feb-2024 10:30:00 -0000"',
  '"32-Foo-2024 99:00:00 +9999"',
  '"x"',
);

const sp = " ";
/** The arguments of each command: pieces after "tag SP name". */
const argsFor: Record<string, fc.Arbitrary<Piece[]>> = {
  LOGIN: fc.tuple(str, str).map(([u, p]) => [sp, u, sp, p]),
  AUTHENTICATE: fc.tuple(
    fc.constantFrom("PLAIN", "LOGIN", "XOAUTH2"),
    fc.option(fc.constantFrom("=", "AGFsaWNlAHNlY3JldA==", "!!")),
  ).map(([m, r]) => [sp, m, ...(r ? [sp, r] : [])]),
  ENABLE: fc.array(fc.constantFrom("CONDSTORE", "QRESYNC", "UTF8=ACCEPT", "X"), { minLength: 1, maxLength: 3 }).map((
    cs,
  ) => [sp, cs.join(" ")]),
  ID: fc.oneof(
    fc.constant<Piece[]>([sp, "NIL"]),
    fc.array(str, { maxLength: 4 }).map((ss) => [sp, "(", ...ss.flatMap((s, i) => (i ? [sp, s] : [s])), ")"]),
  ),
  SELECT: fc.tuple(
    mailbox,
    fc.constantFrom(
      "",
      " (CONDSTORE)",
      " (QRESYNC (67890007 20050715194045000 41,43:211))",
      " (QRESYNC (1 2 1:* (1 2)))",
      " (BOGUS)",
      " ()",
    ),
  )
    .map(([m, o]) => [sp, m, o]),
  CREATE: fc.tuple(mailbox, fc.constantFrom("", " (USE (\\Archive))", " (USE ())", " (X)")).map(([m, o]) => [sp, m, o]),
  DELETE: mailbox.map((m) => [sp, m]),
  RENAME: fc.tuple(mailbox, mailbox).map(([a, b]) => [sp, a, sp, b]),
  LIST: fc.tuple(
    fc.constantFrom("", "(SUBSCRIBED) ", "(SPECIAL-USE RECURSIVEMATCH) "),
    str,
    fc.constantFrom("*", "%", '("INBOX" %)', "Lists/%", "&A-*", '""'),
    fc.constantFrom("", " RETURN (CHILDREN)", " RETURN (STATUS (MESSAGES UNSEEN))", " RETURN (X)", " RETURN"),
  )
    .map(([o, r, p, ret]) => [sp, o, r, sp, p, ret]),
  LSUB: fc.tuple(str, fc.constantFrom("*", "%", "a/%")).map(([r, p]) => [sp, r, sp, p]),
  STATUS: fc.tuple(mailbox, fc.constantFrom("(MESSAGES)", "(MESSAGES UIDNEXT SIZE)", "()", "MESSAGES")).map((
    [m, i],
  ) => [sp, m, sp, i]),
  APPEND: fc.tuple(mailbox, fc.option(flagList), fc.option(date), literal(junk(60))).map((
    [m, f, d, l],
  ) => [sp, m, ...(f ? [sp, f] : []), ...(d ? [sp, d] : []), sp, l]),
  FETCH: fc.tuple(seqSet, fetchItems, fc.constantFrom("", " (CHANGEDSINCE 5)", " (CHANGEDSINCE 5 VANISHED)", " (X)"))
    .map(([s, i, m]) => [sp, s, sp, i, m]),
  STORE: fc.tuple(
    seqSet,
    fc.constantFrom("", "(UNCHANGEDSINCE 3) "),
    fc.constantFrom("FLAGS", "+FLAGS", "-FLAGS.SILENT", "FLAGZ"),
    fc.oneof(flagList, flag),
  )
    .map(([s, u, m, f]) => [sp, s, sp, u, m, sp, f]),
  COPY: fc.tuple(seqSet, mailbox).map(([s, m]) => [sp, s, sp, m]),
  MOVE: fc.tuple(seqSet, mailbox).map(([s, m]) => [sp, s, sp, m]),
  SEARCH: fc.tuple(fc.constantFrom("", "RETURN (MIN MAX) ", "RETURN () ", "CHARSET UTF-8 "), searchKey).map((
    [p, k],
  ) => [sp, p, k]),
  EXPUNGE: fc.constantFrom([], [sp, "1:*"]),
};

const simple = [
  "CAPABILITY",
  "NOOP",
  "LOGOUT",
  "STARTTLS",
  "NAMESPACE",
  "IDLE",
  "CHECK",
  "CLOSE",
  "UNSELECT",
  "DONE",
  "BOGUS",
];

const tag = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z][0-9]{1,4}$/), weight: 5 },
  fc.constantFrom("+", "*", "a)", ""),
  junk(4),
);

/** One command as pieces, without its final line end. */
export const commandPieces: fc.Arbitrary<Piece[]> = fc.oneof(
  fc.tuple(tag, fc.constantFrom(...simple)).chain(([t, n]) => anyCase(n).map((name) => [t, sp, name])),
  fc.constantFrom(...Object.keys(argsFor)).chain((name) =>
    fc.tuple(tag, fc.boolean(), anyCase(name), argsFor[name]!).map((
      [t, uid, n, args],
    ) => [t, sp, ...(uid ? ["UID", sp] : []), n, ...args])
  ),
);

/** Mostly well-formed pieces, each text piece sometimes mutated. */
const nearValidPieces: fc.Arbitrary<Piece[]> = commandPieces.chain((pieces) =>
  fc.tuple(...pieces.map((p) => (typeof p === "string" ? nearValid(fc.constant(p)) : fc.constant(p)))).map((ps) =>
    ps as Piece[]
  )
);

/** A whole client stream as a binary string. */
export const clientStream: fc.Arbitrary<string> = fc.array(
  fc.oneof(
    { arbitrary: fc.tuple(nearValidPieces, lineEnd).map(([ps, end]) => serialize(ps, end)), weight: 6 },
    { arbitrary: fc.tuple(junk(40), lineEnd).map(([j, end]) => j + end), weight: 1 },
  ),
  { maxLength: 10 },
).map((cs) => cs.join(""));

// ---------------------------------------------------------------------------------------------
// Driver

export type ImapEvent =
  | { continuation: true }
  /** A tagged or untagged BAD/NO as the server writes it, without CRLF. */
  | { reply: string }
  | { command: { text: string; literals: string[] } };

export const READER: ReaderOptions = { maxLiteralSize: 1000, maxCommandSize: 5000 };

type Want = { kind: "line" } | { kind: "literal"; size: number } | { kind: "discard"; left: number };

export class ImapWire {
  readonly framer = new LineFramer();
  readonly reader: CommandReader;
  readonly events: ImapEvent[] = [];
  /** The assembled commands, as given to the parser. */
  readonly commands: RawCommand[] = [];
  #want: Want = { kind: "line" };

  constructor(readonly maxLineLength = 8192, options: ReaderOptions = READER) {
    this.reader = new CommandReader(options);
  }

  push(chunk: Uint8Array | string): void {
    this.framer.push(typeof chunk === "string" ? wire(chunk) : chunk);
    const budget = new StepBudget(4 * this.framer.length + 64);
    for (;;) {
      budget.spend("the IMAP command reader");
      if (!this.#advance()) return;
    }
  }

  #advance(): boolean {
    const want = this.#want;
    if (want.kind === "literal") {
      const bytes = this.framer.readBytes(want.size);
      if (!bytes) return false;
      this.reader.pushLiteral(bytes);
      this.#want = { kind: "line" };
      return true;
    }
    if (want.kind === "discard") {
      want.left -= this.framer.skip(want.left);
      if (want.left > 0) return false;
      this.#want = { kind: "line" };
      return true;
    }
    const line = this.framer.readLine(this.maxLineLength);
    if (!line) return false;
    if (line.kind === "too-long") {
      const tag = this.reader.abandon();
      this.events.push({ reply: `${tag ?? "*"} BAD Command line too long` });
      return true;
    }
    const step = this.reader.pushLine(line.bytes);
    if (step === null) return true;
    switch (step.kind) {
      case "literal":
        if (step.synchronizing) this.events.push({ continuation: true });
        this.#want = { kind: "literal", size: step.size };
        break;
      case "error":
        if (step.message) {
          this.events.push({ reply: `${step.tag ?? "*"} ${step.tooBig ? "NO [TOOBIG]" : "BAD"} ${step.message}` });
        }
        if (step.discard > 0) this.#want = { kind: "discard", left: step.discard };
        break;
      case "command":
        this.commands.push(step.command);
        this.events.push({ command: { text: step.command.text, literals: step.command.literals.map(binary) } });
        break;
    }
    return true;
  }
}
