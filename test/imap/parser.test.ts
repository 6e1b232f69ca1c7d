import { describe, expect, test } from "bun:test";
import { parseCommand, parseDateTime } from "../../src/imap/parser.ts";
import { MAX_SEARCH_DEPTH } from "../../src/imap/search.ts";

const enc = new TextEncoder();
const parse = (text: string, literals: string[] = [], utf8Accept = false) =>
  parseCommand({ text, literals: literals.map((l) => enc.encode(l)) }, { utf8Accept });
/** The search key of a SEARCH command. */
const key = (text: string) => {
  const command = ok(text);
  if (command.name !== "SEARCH") throw new Error(`not a SEARCH: ${text}`);
  return command.key;
};
const ok = (text: string, literals: string[] = []) => {
  const r = parse(text, literals);
  if (!r.ok) throw new Error(r.message);
  return r.command;
};

describe("IMAP command parser", () => {
  test("bad input found by test/fuzz gets BAD, never a throw", () => {
    // Modified UTF-7 with 4n+1 base64 letters encodes no whole octet.
    expect(parse("a1 SELECT &A-")).toMatchObject({ ok: false, tag: "a1" });
    // The text quoted back into BAD carries no CR or other control.
    for (const text of ["a1 NOOP\rX", "a0 UID FETCH 1 \rFLAGS"]) {
      const bad = parse(text);
      expect(bad.ok).toBe(false);
      if (!bad.ok) expect(bad.message).not.toMatch(/[\x00-\x1f]/);
    }
    // SEARCH nesting is bounded below what the stack allows.
    expect(parse(`a1 SEARCH ${"NOT ".repeat(MAX_SEARCH_DEPTH - 1)}ALL`).ok).toBe(true);
    expect(parse(`a1 SEARCH ${"(".repeat(20_000)}ALL${")".repeat(20_000)}`)).toMatchObject({ ok: false, tag: "a1" });
  });

  test("simple commands, LOGIN with quoted and literal strings, AUTHENTICATE with SASL-IR", () => {
    expect(ok("a1 NOOP")).toEqual({ tag: "a1", uid: false, name: "NOOP" });
    expect(ok('a2 LOGIN "al\\"ice" \0', ["p w"])).toMatchObject({ name: "LOGIN", username: 'al"ice', password: "p w" });
    expect(ok("a3 AUTHENTICATE PLAIN AGEAYg==")).toMatchObject({
      name: "AUTHENTICATE",
      mechanism: "PLAIN",
      initialResponse: "AGEAYg==",
    });
    expect(ok("a4 ENABLE CONDSTORE qresync")).toMatchObject({ capabilities: ["CONDSTORE", "QRESYNC"] });
    expect(ok('a5 ID ("name" "mutt" "version" NIL)')).toMatchObject({ params: { name: "mutt", version: null } });
  });

  test("mailboxes: INBOX in any case, modified UTF-7 decoded, CREATE with USE", () => {
    expect(ok("s1 SELECT inbox")).toMatchObject({ name: "SELECT", mailbox: "INBOX", condstore: false });
    expect(ok("s2 EXAMINE Entw&APw-rfe (CONDSTORE)")).toMatchObject({ mailbox: "Entwürfe", condstore: true });
    expect(ok("s3 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))")).toMatchObject({
      qresync: { uidValidity: 67890007, modseq: 20050715194045000, knownUids: { saved: false } },
    });
    expect(ok("c1 CREATE Archive/2024 (USE (\\Archive))")).toMatchObject({
      mailbox: "Archive/2024",
      specialUse: ["\\Archive"],
    });
    expect(ok('r1 RENAME "Old" New')).toMatchObject({ from: "Old", to: "New" });
    expect(parse("s4 SELECT bad&Jjo").ok).toBe(false);
  });

  test("a mailbox name that is not modified UTF-7 is a refusal (NO), not a syntax error (RFC 3501 §5.1.3)", () => {
    expect(parse("s5 SELECT bad&Jjo")).toMatchObject({ ok: false, tag: "s5", refusal: { name: "SELECT" } });
    expect(parse('s6 RENAME Old "&A-"')).toMatchObject({ ok: false, refusal: { name: "RENAME" } });
    expect(parse("s7 SELECT bad&Jjo (")).not.toHaveProperty("refusal");
    expect(parse("s8 SELECT (")).not.toHaveProperty("refusal");
  });

  test("LIST forms: basic, LIST-EXTENDED selection and return options, LIST-STATUS", () => {
    expect(ok('l1 LIST "" *')).toMatchObject({ reference: "", patterns: ["*"], selectOptions: [] });
    expect(ok('l2 LIST (SUBSCRIBED) "" ("INBOX" %) RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))'))
      .toMatchObject({
        selectOptions: ["SUBSCRIBED"],
        patterns: ["INBOX", "%"],
        returnOptions: { children: true, specialUse: true, status: ["MESSAGES", "UNSEEN"], subscribed: false },
      });
    expect(ok('l3 LSUB "" Lists/%')).toMatchObject({ name: "LSUB", pattern: "Lists/%" });
    expect(ok("st STATUS INBOX (MESSAGES UIDNEXT SIZE)")).toMatchObject({ items: ["MESSAGES", "UIDNEXT", "SIZE"] });
  });

  test("APPEND with flags, date and a literal; MULTIAPPEND with several (RFC 3502)", () => {
    const cmd = ok('ap APPEND Drafts (\\Seen \\Draft) "05-Feb-2024 10:30:00 +0100" \0', ["Subject: x\r\n\r\nhi"]);
    if (cmd.name !== "APPEND") throw new Error("not APPEND");
    expect(cmd).toMatchObject({ name: "APPEND", mailbox: "Drafts", messages: [{ flags: ["\\Seen", "\\Draft"] }] });
    expect(cmd.messages[0]!.date!.toISOString()).toBe("2024-02-05T09:30:00.000Z");
    expect(new TextDecoder().decode(cmd.messages[0]!.message as Uint8Array)).toBe("Subject: x\r\n\r\nhi");
    expect(ok("ap2 APPEND INBOX \0", ["x"])).toMatchObject({ messages: [{ flags: [], date: null }] });
    const multi = ok('ap3 APPEND INBOX \0 (\\Seen) \0 "05-Feb-2024 10:30:00 +0100" \0', ["a", "b", "c"]);
    expect(multi).toMatchObject({ messages: [{ flags: [] }, { flags: ["\\Seen"] }, { flags: [] }] });
    expect(parse("ap4 APPEND INBOX \0 ", ["a"]).ok).toBe(false);
  });

  test("APPEND with CATENATE: TEXT literals and URLs, with MULTIAPPEND (RFC 4469 §5)", () => {
    const url = "/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER";
    const cmd = ok(`c1 APPEND Drafts (\\Seen) CATENATE (URL "${url}" TEXT \0 URL /INBOX/;UID=3) \0`, ["--b\r\n", "x"]);
    expect(cmd).toMatchObject({
      name: "APPEND",
      messages: [
        {
          flags: ["\\Seen"],
          message: [
            { kind: "url", url },
            { kind: "text", bytes: new TextEncoder().encode("--b\r\n") },
            { kind: "url", url: "/INBOX/;UID=3" },
          ],
        },
        { flags: [], message: new TextEncoder().encode("x") },
      ],
    });
    expect(parse("c2 APPEND Drafts CATENATE ()", []).ok).toBe(false);
    expect(parse("c3 APPEND Drafts CATENATE (BODY \0)", ["x"]).ok).toBe(false);
  });

  test("FETCH items: macros, sections, partials, BINARY, modifiers", () => {
    expect(ok("f1 FETCH 1:* ALL")).toMatchObject({
      items: [{ item: "FLAGS" }, { item: "INTERNALDATE" }, { item: "RFC822.SIZE" }, { item: "ENVELOPE" }],
    });
    expect(ok("f2 UID FETCH 1:* (UID FLAGS BODY.PEEK[1.2.HEADER.FIELDS (From To)]<0.100> BODYSTRUCTURE)"))
      .toMatchObject({
        uid: true,
        items: [
          { item: "UID" },
          { item: "FLAGS" },
          {
            item: "BODY[]",
            peek: true,
            section: { part: [1, 2], text: "HEADER.FIELDS", fields: ["from", "to"] },
            partial: { offset: 0, length: 100 },
          },
          { item: "BODYSTRUCTURE" },
        ],
      });
    expect(ok("f3 FETCH 2 (BODY[] BODY[TEXT] BODY[3.MIME] BINARY.PEEK[1] BINARY.SIZE[2] RFC822.HEADER MODSEQ)"))
      .toMatchObject({
        items: [
          { item: "BODY[]", peek: false, section: { part: [], text: null } },
          { item: "BODY[]", section: { text: "TEXT" } },
          { item: "BODY[]", section: { part: [3], text: "MIME" } },
          { item: "BINARY[]", peek: true, section: { part: [1] } },
          { item: "BINARY.SIZE", section: { part: [2] } },
          { item: "RFC822.HEADER" },
          { item: "MODSEQ" },
        ],
      });
    expect(ok("f4 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)")).toMatchObject({
      changedSince: 12345,
      vanished: true,
    });
    expect(parse("f5 FETCH 1 (BODY[MIME])").ok).toBe(false);
    expect(parse("f6 FETCH 1 (FLAGS").ok).toBe(false);
  });

  test("STORE and COPY/MOVE, UID EXPUNGE", () => {
    expect(ok("s1 STORE 1:3 +FLAGS.SILENT (\\Seen $Forwarded)")).toMatchObject({
      mode: "add",
      silent: true,
      flags: ["\\Seen", "$Forwarded"],
    });
    expect(ok("s2 UID STORE 5 (UNCHANGEDSINCE 99) -FLAGS \\Deleted")).toMatchObject({
      uid: true,
      mode: "remove",
      flags: ["\\Deleted"],
      unchangedSince: 99,
    });
    expect(ok("s3 STORE 1 FLAGS ()")).toMatchObject({ mode: "set", flags: [] });
    // System flags in any case come back canonical; keywords keep their spelling (RFC 9051 §2.3.2).
    expect(ok("s4 STORE 1 +FLAGS (\\deleted \\SEEN \\answered $junk \\Custom)")).toMatchObject({
      flags: ["\\Deleted", "\\Seen", "\\Answered", "$junk", "\\Custom"],
    });
    expect(ok("m1 UID MOVE 4:2 Trash")).toMatchObject({
      name: "MOVE",
      set: { saved: false, ranges: [{ start: 2, end: 4 }] },
      mailbox: "Trash",
    });
    expect(ok("e1 UID EXPUNGE 1:5")).toMatchObject({ name: "EXPUNGE", uids: { saved: false } });
    expect(ok("e2 EXPUNGE")).toMatchObject({ uids: null });
  });

  test("SEARCH: nested OR/NOT, parentheses, dates, headers, ESEARCH RETURN, charset, MODSEQ", () => {
    expect(key('q1 SEARCH CHARSET UTF-8 OR (FROM "alice" SINCE 1-Feb-2024) NOT SEEN')).toEqual({
      op: "or",
      left: {
        op: "and",
        keys: [{ op: "header", field: "from", value: "alice" }, {
          op: "date",
          which: "internal",
          cmp: "since",
          day: "2024-02-01",
        }],
      },
      right: { op: "not", key: { op: "flag", flag: "\\Seen", set: true } },
    });
    expect(ok("q2 UID SEARCH RETURN (MIN MAX COUNT) 1:* UNDELETED LARGER 100 HEADER X-Spam yes")).toMatchObject({
      uid: true,
      returnOptions: ["MIN", "MAX", "COUNT"],
      key: {
        op: "and",
        keys: [{ op: "seq" }, { op: "flag", flag: "\\Deleted", set: false }, { op: "size", cmp: "larger", size: 100 }, {
          op: "header",
          field: "x-spam",
          value: "yes",
        }],
      },
    });
    expect(key("q3 SEARCH MODSEQ 620162338")).toEqual({ op: "modseq", modseq: 620162338 });
    expect(key('q4 SEARCH TEXT "hello world" SENTBEFORE "3-Mar-2025" KEYWORD $Junk UID 1:5')).toMatchObject({
      op: "and",
    });
    expect(parse("q5 SEARCH FROB").ok).toBe(false);
    expect(parse("q6 SEARCH SINCE 31-Foo-2024").ok).toBe(false);
  });

  test("errors keep the tag and name the problem", () => {
    expect(parse("x1 FROBNICATE")).toEqual({
      ok: false,
      tag: "x1",
      message: 'Expected a command (FROBNICATE is unknown) at ""',
    });
    expect(parse("x2 UID NOOP")).toMatchObject({ ok: false, tag: "x2" });
    expect(parse("x3 FETCH 0 FLAGS")).toMatchObject({
      ok: false,
      tag: "x3",
      message: expect.stringContaining("non-zero"),
    });
    expect(parse("x4 LOGIN a")).toMatchObject({ ok: false, tag: "x4", message: expect.stringContaining("a space") });
    expect(parse("(bad")).toMatchObject({ ok: false, tag: null });
    expect(parse("x5 NOOP extra")).toMatchObject({ ok: false, message: expect.stringContaining("end of the command") });
  });

  test("date-time values", () => {
    expect(parseDateTime("17-Jul-1996 02:44:25 -0700")?.toISOString()).toBe("1996-07-17T09:44:25.000Z");
    expect(parseDateTime(" 7-Jul-1996 02:44:25 +0000")?.toISOString()).toBe("1996-07-07T02:44:25.000Z");
    expect(parseDateTime("17-Foo-1996 02:44:25 -0700")).toBeNull();
  });

  test("SORT and THREAD (RFC 5256), UID forms, ESORT RETURN (RFC 5267)", () => {
    expect(ok("t1 SORT (REVERSE DATE subject) UTF-8 ALL")).toMatchObject({
      name: "SORT",
      uid: false,
      returnOptions: null,
      criteria: [{ key: "DATE", reverse: true }, { key: "SUBJECT", reverse: false }],
      charset: "UTF-8",
      key: { op: "all" },
    });
    expect(ok("t2 UID SORT RETURN (MIN COUNT) (ARRIVAL) us-ascii UNSEEN")).toMatchObject({
      uid: true,
      returnOptions: ["MIN", "COUNT"],
      charset: "US-ASCII",
    });
    expect(ok("t3 UID THREAD REFERENCES UTF-8 SINCE 1-Jan-2026")).toMatchObject({
      name: "THREAD",
      uid: true,
      algorithm: "REFERENCES",
    });
    expect(parse("t4 SORT (NAME) UTF-8 ALL").ok).toBe(false);
    expect(parse("t5 SORT () UTF-8 ALL").ok).toBe(false);
    expect(parse("t6 SORT (DATE) ALL").ok).toBe(false);
    expect(parse("t7 THREAD X-JWZ UTF-8 ALL").ok).toBe(false);
  });

  test("WITHIN: OLDER and YOUNGER take seconds (RFC 5032)", () => {
    expect(key("w1 SEARCH YOUNGER 3600 OLDER 60")).toEqual({
      op: "and",
      keys: [{ op: "age", cmp: "younger", seconds: 3600 }, { op: "age", cmp: "older", seconds: 60 }],
    });
    expect(parse("w2 SEARCH OLDER 0").ok).toBe(false);
    expect(parse("w3 SEARCH YOUNGER x").ok).toBe(false);
  });

  test("OBJECTID and PREVIEW: FETCH EMAILID THREADID PREVIEW (LAZY), SEARCH EMAILID/THREADID (RFC 8474, RFC 8970)", () => {
    expect(ok("o1 FETCH 1 (EMAILID THREADID PREVIEW (LAZY) FLAGS)")).toMatchObject({
      items: [{ item: "EMAILID" }, { item: "THREADID" }, { item: "PREVIEW" }, { item: "FLAGS" }],
    });
    expect(ok("o2 FETCH 1 PREVIEW (CHANGEDSINCE 5)")).toMatchObject({ items: [{ item: "PREVIEW" }], changedSince: 5 });
    expect(key("o3 SEARCH EMAILID M12 THREADID T0a1")).toEqual({
      op: "and",
      keys: [{ op: "emailid", id: "M12" }, { op: "threadid", id: "T0a1" }],
    });
  });

  test("SAVEDATE: the FETCH item and SAVEDBEFORE/SAVEDON/SAVEDSINCE/SAVEDATESUPPORTED (RFC 8514)", () => {
    expect(ok("sd1 FETCH 1 (SAVEDATE)")).toMatchObject({ items: [{ item: "SAVEDATE" }] });
    expect(key("sd2 SEARCH SAVEDSINCE 1-Feb-2026 SAVEDATESUPPORTED")).toEqual({
      op: "and",
      keys: [{ op: "date", which: "saved", cmp: "since", day: "2026-02-01" }, { op: "savedatesupported" }],
    });
  });
});
