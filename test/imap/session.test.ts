/**
 * The IMAP session with an in-memory backend, no socket (like the SMTP and POP3 session tests):
 * every command in every state, then a session's exact responses through login, SELECT, FETCH,
 * STORE, SEARCH, EXPUNGE and what another writer's changes look like.
 */
import { describe, expect, test } from "bun:test";
import { parseCommand } from "../../src/imap/parser.ts";
import { ImapSession } from "../../src/imap/session.ts";
import type { ImapCommand } from "../../src/imap/commands.ts";
import { ALLOWED, refusal, type StateName } from "../../src/imap/state.ts";
import { MemoryImapBackend } from "../helpers/imap-backend.ts";

const TLS = { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" };

function open(backend = new MemoryImapBackend(), maxMessageSize?: number) {
  const session = new ImapSession({
    hostname: "mx.example.org",
    remoteAddress: "192.0.2.1",
    tls: TLS,
    allowPlaintextAuth: false,
    maxAuthFailures: 3,
    ...(maxMessageSize ? { maxMessageSize } : {}),
  }, backend);
  let n = 0;
  /** Runs one command line (a literal as `{literal}`); returns the output lines without CRLF. */
  const run = async (line: string, literals: string[] = [], tag = `a${++n}`) => {
    const parsed = parseCommand(
      {
        text: `${tag} ${line}`.replaceAll("{literal}", "\0"),
        literals: literals.map((l) => new TextEncoder().encode(l)),
      },
      { utf8Accept: session.utf8Accept },
    );
    if (!parsed.ok) throw new Error(`${line}: ${parsed.message}`);
    // FETCH sends its responses in batches through `flush`; they come before the rest.
    const flushed: Array<string | Uint8Array> = [];
    const step = await session.command(parsed.command, async (out) => void flushed.push(...out));
    const text = [...flushed, ...step.out].map((o) => (typeof o === "string" ? o : new TextDecoder().decode(o)))
      .join("");
    const lines = text.split("\r\n").slice(0, -1);
    const done = lines.at(-1)?.startsWith(`${tag} `) ? lines.at(-1)!.slice(tag.length + 1) : "";
    return { tag, lines, done, untagged: done ? lines.slice(0, -1) : lines, step };
  };
  return { session, backend, run };
}

/** A command of each name that is valid where its state allows it. */
const SAMPLES: Record<string, [string, string[]?]> = {
  CAPABILITY: ["CAPABILITY"],
  NOOP: ["NOOP"],
  ID: ['ID ("name" "test")'],
  STARTTLS: ["STARTTLS"],
  LOGIN: ["LOGIN alice secret"],
  AUTHENTICATE: [`AUTHENTICATE PLAIN ${btoa("\0alice\0secret")}`],
  ENABLE: ["ENABLE CONDSTORE"],
  COMPRESS: ["COMPRESS DEFLATE"],
  CANCELUPDATE: ['CANCELUPDATE "a1"'],
  NOTIFY: ["NOTIFY SET STATUS (selected (MessageNew MessageExpunge)) (personal (MessageNew MessageExpunge))"],
  SELECT: ["SELECT INBOX"],
  EXAMINE: ["EXAMINE INBOX"],
  CREATE: ["CREATE Projects"],
  DELETE: ["DELETE Trash"],
  RENAME: ["RENAME Trash Bin"],
  SUBSCRIBE: ["SUBSCRIBE Later"],
  UNSUBSCRIBE: ["UNSUBSCRIBE Later"],
  LIST: ['LIST "" "*"'],
  LSUB: ['LSUB "" "*"'],
  NAMESPACE: ["NAMESPACE"],
  STATUS: ["STATUS INBOX (MESSAGES UNSEEN RECENT)"],
  APPEND: ["APPEND INBOX {literal}", ["Subject: appended\r\n\r\nx\r\n"]],
  IDLE: ["IDLE"],
  CHECK: ["CHECK"],
  CLOSE: ["CLOSE"],
  UNSELECT: ["UNSELECT"],
  EXPUNGE: ["EXPUNGE"],
  SEARCH: ["SEARCH ALL"],
  SORT: ["SORT (DATE) UTF-8 ALL"],
  THREAD: ["THREAD REFERENCES UTF-8 ALL"],
  FETCH: ["FETCH 1 (FLAGS)"],
  STORE: ["STORE 1 +FLAGS (\\Seen)"],
  COPY: ["COPY 1 Trash"],
  MOVE: ["MOVE 1 Trash"],
  GETQUOTA: ['GETQUOTA ""'],
  GETQUOTAROOT: ["GETQUOTAROOT INBOX"],
  SETQUOTA: ['SETQUOTA "" (STORAGE 10)'],
  LOGOUT: ["LOGOUT"],
};

/** A fresh session in `state`, with one message in INBOX. */
async function inState(state: Exclude<StateName, "logout">) {
  const s = open();
  s.backend.deliver("INBOX", "Subject: first\r\n\r\nbody\r\n");
  if (state !== "not-authenticated") expect((await s.run("LOGIN alice secret")).done).toMatch(/^OK /);
  if (state === "selected") expect((await s.run("SELECT INBOX")).done).toMatch(/^OK /);
  expect(s.session.state).toBe(state);
  return s;
}

describe("IMAP session: every command in every state (RFC 9051 §6)", () => {
  for (const state of ["not-authenticated", "authenticated", "selected"] as const) {
    test(`${state}: refused commands get BAD naming why, allowed ones run without a server error`, async () => {
      for (const [name, [line, literals]] of Object.entries(SAMPLES)) {
        const s = await inState(state);
        const r = await s.run(line, literals ?? []);
        const allowed = ALLOWED[state].has(name as never);
        if (!allowed) {
          expect(r.lines).toEqual([`${r.tag} BAD ${refusal(state, name as ImapCommand["name"])}`]);
          expect(r.done).toMatch(/needs LOGIN or AUTHENTICATE first|needs a selected mailbox|is not allowed in the/);
          expect(s.session.state).toBe(state);
          continue;
        }
        if (name === "STARTTLS") {
          // These sessions run over TLS already.
          expect(r.done).toBe("BAD TLS is already active");
          continue;
        }
        if (name === "IDLE") {
          expect(r.step.action.kind).toBe("idle");
          continue;
        }
        expect(r.done, `${name} in ${state}`).toMatch(/^(OK|NO) /);
        expect(r.done, `${name} in ${state}`).not.toMatch(/SERVERBUG/);
        if (name === "LOGOUT") {
          expect(r.lines[0]).toMatch(/^\* BYE /);
          expect(r.step.action.kind).toBe("close");
          expect(s.session.state).toBe("logout");
        }
      }
    });
  }

  test("after LOGOUT every command is refused", async () => {
    const s = await inState("selected");
    await s.run("LOGOUT");
    expect((await s.run("NOOP")).done).toBe("BAD NOOP is not allowed in the logout state");
  });
});

describe("IMAP session: a conversation", () => {
  test("SELECT, FETCH, STORE, SEARCH, EXPUNGE, and another writer's delivery and flags", async () => {
    const s = await inState("authenticated");
    s.backend.deliver("INBOX", "Subject: second\r\nFrom: Ann <ann@example.org>\r\n\r\nhello\r\n", ["\\Seen"]);
    const selected = await s.run("SELECT INBOX");
    expect(selected.untagged).toEqual([
      "* 2 EXISTS",
      "* 2 RECENT",
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
      "* OK [PERMANENTFLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft \\*)] Flags permitted",
      "* OK [UIDVALIDITY 1001] UIDs valid",
      "* OK [UIDNEXT 3] Predicted next UID",
      "* OK [MAILBOXID (MB1)] Ok",
      expect.stringMatching(/^\* OK \[HIGHESTMODSEQ \d+\] Highest$/),
    ]);
    expect(selected.done).toBe("OK [READ-WRITE] SELECT completed");
    expect((await s.run("FETCH 1:2 (UID FLAGS ENVELOPE)")).untagged).toEqual([
      '* 1 FETCH (UID 1 FLAGS (\\Recent) ENVELOPE (NIL "first" NIL NIL NIL NIL NIL NIL NIL NIL))',
      '* 2 FETCH (UID 2 FLAGS (\\Seen \\Recent) ENVELOPE (NIL "second" (("Ann" NIL "ann" "example.org")) ' +
      '(("Ann" NIL "ann" "example.org")) (("Ann" NIL "ann" "example.org")) NIL NIL NIL NIL NIL))',
    ]);
    expect((await s.run("STORE 1 +FLAGS (\\Deleted)")).untagged).toEqual(["* 1 FETCH (FLAGS (\\Deleted \\Recent))"]);
    expect((await s.run("SEARCH DELETED")).untagged).toEqual(["* SEARCH 1"]);
    expect((await s.run("SEARCH FROM ann@example.org")).untagged).toEqual(["* SEARCH 2"]);
    // Another writer: a delivery and a flag change, heard at the next NOOP.
    s.backend.deliver("INBOX", "Subject: third\r\n\r\nx\r\n");
    await s.backend.store(1, [2], "add", ["$Label"], null);
    expect((await s.run("NOOP")).untagged).toEqual([
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Label)",
      "* 2 FETCH (UID 2 FLAGS (\\Seen $Label \\Recent))",
      "* 3 EXISTS",
      "* 3 RECENT",
    ]);
    expect((await s.run("EXPUNGE")).untagged).toEqual(["* 1 EXPUNGE"]);
    expect((await s.run("UID FETCH 1:* (FLAGS)")).untagged).toEqual([
      "* 1 FETCH (FLAGS (\\Seen $Label \\Recent) UID 2)",
      "* 2 FETCH (FLAGS (\\Recent) UID 3)",
    ]);
    expect((await s.run("CLOSE")).done).toBe("OK CLOSE completed");
    expect(s.session.state).toBe("authenticated");
  });

  test("a failed SELECT leaves no mailbox selected (RFC 9051 §6.3.2)", async () => {
    const s = await inState("selected");
    expect((await s.run("SELECT Nowhere")).done).toBe("NO [NONEXISTENT] No such mailbox");
    expect(s.session.state).toBe("authenticated");
    expect((await s.run("FETCH 1 (FLAGS)")).done).toBe("BAD FETCH needs a selected mailbox");
  });

  test("IDLE hears a delivery; DONE ends it", async () => {
    const s = await inState("selected");
    const idle = await s.run("IDLE");
    expect(idle.step.action.kind).toBe("idle");
    s.backend.deliver("INBOX", "Subject: during idle\r\n\r\nx\r\n");
    // Both messages are recent here: this session was the first to see either.
    expect(await s.session.idleUpdate()).toEqual(["* 2 EXISTS\r\n", "* 2 RECENT\r\n"]);
    expect(s.session.idleDone().out).toEqual([`${idle.tag} OK IDLE terminated\r\n`]);
  });
});

describe("IMAP session: QUOTA (RFC 9208)", () => {
  test('one root "" with STORAGE in KiB when the account has a quota; none without; SETQUOTA refused', async () => {
    const s = await inState("authenticated");
    expect((await s.run("GETQUOTAROOT INBOX")).untagged).toEqual(['* QUOTAROOT "INBOX"']);
    expect((await s.run('GETQUOTA ""')).done).toBe("NO [NONEXISTENT] No such quota root");
    s.backend.quotaLimit = 10 * 1024 * 1024;
    s.backend.deliver("INBOX", `Subject: big\r\n\r\n${"x".repeat(3000)}\r\n`);
    const root = await s.run("GETQUOTAROOT INBOX");
    expect(root.untagged).toEqual(['* QUOTAROOT "INBOX" ""', '* QUOTA "" (STORAGE 3 10240)']);
    expect((await s.run('GETQUOTA ""')).untagged).toEqual(['* QUOTA "" (STORAGE 3 10240)']);
    expect((await s.run('SETQUOTA "" (STORAGE 1)')).done).toMatch(/^NO \[NOPERM\] /);
    expect((await s.run("GETQUOTAROOT Nowhere")).done).toBe("NO [NONEXISTENT] No such mailbox");
    await s.run("SELECT INBOX");
    await s.run("STORE 2 +FLAGS (\\Deleted)");
    expect((await s.run("STATUS INBOX (DELETED DELETED-STORAGE)")).untagged).toEqual([
      '* STATUS "INBOX" (DELETED 1 DELETED-STORAGE 3)',
    ]);
  });
});

describe("IMAP session: COMPRESS (RFC 4978)", () => {
  test("COMPRESS DEFLATE is OK once with the compress action; again NO [COMPRESSIONACTIVE]; others BAD", async () => {
    const s = await inState("authenticated");
    expect((await s.run("CAPABILITY")).untagged[0]).toMatch(/ COMPRESS=DEFLATE( |$)/);
    const other = await s.run("COMPRESS GZIP");
    expect(other.done).toBe("BAD Unknown compression mechanism GZIP");
    expect(other.step.action.kind).toBe("continue");
    // RFC 4978 §3 example: "a COMPRESS DEFLATE" → "a OK DEFLATE active".
    const first = await s.run("COMPRESS DEFLATE");
    expect(first.lines).toEqual([`${first.tag} OK DEFLATE active`]);
    expect(first.step.action.kind).toBe("compress");
    const second = await s.run("compress deflate");
    expect(second.done).toBe("NO [COMPRESSIONACTIVE] DEFLATE is already active");
    expect(second.step.action.kind).toBe("continue");
  });
});

describe("IMAP session: CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4)", () => {
  /** INBOX with five messages (UIDs 1-5); \Flagged on 2 and 4; selected in an IMAP4rev2 session. */
  async function five() {
    const s = await inState("authenticated");
    for (const [subject, flags] of [["b", ["\\Flagged"]], ["e", []], ["a", ["\\Flagged"]], ["d", []]] as const) {
      s.backend.deliver("INBOX", `Subject: ${subject}\r\n\r\nx\r\n`, [...flags]);
    }
    await s.run("ENABLE IMAP4rev2");
    await s.run("SELECT INBOX");
    return s;
  }

  test("SEARCH RETURN (UPDATE): ADDTO after EXISTS, REMOVEFROM before EXPUNGE, CANCELUPDATE ends them", async () => {
    const s = await five();
    // §4.3 example shape: the first answer, then updates carrying the search's tag.
    const first = await s.run("UID SEARCH RETURN (UPDATE) FLAGGED", [], "B01");
    expect(first.lines).toEqual(['* ESEARCH (TAG "B01") UID ALL 2,4', "B01 OK SEARCH completed"]);
    // Another session flags 5: a FETCH and an ADDTO with context position 0 (§4.3.3).
    await s.backend.store(1, [5], "add", ["\\Flagged"], null);
    expect((await s.run("NOOP")).untagged).toEqual([
      "* 5 FETCH (UID 5 FLAGS (\\Flagged))",
      '* ESEARCH (TAG "B01") UID ADDTO (0 5)',
    ]);
    // A flagged delivery: ADDTO after EXISTS.
    s.backend.deliver("INBOX", "Subject: c\r\n\r\nx\r\n", ["\\Flagged"]);
    expect((await s.run("NOOP")).untagged).toEqual(["* 6 EXISTS", '* ESEARCH (TAG "B01") UID ADDTO (0 6)']);
    // §4.3.4 example shape: REMOVEFROM goes before the EXPUNGE.
    await s.backend.expunge(1, [4]);
    expect((await s.run("NOOP")).untagged).toEqual(['* ESEARCH (TAG "B01") UID REMOVEFROM (0 4)', "* 4 EXPUNGE"]);
    // Unflagged by another session: REMOVEFROM after the FETCH.
    await s.backend.store(1, [2], "remove", ["\\Flagged"], null);
    expect((await s.run("NOOP")).untagged).toEqual([
      "* 2 FETCH (UID 2 FLAGS ())",
      '* ESEARCH (TAG "B01") UID REMOVEFROM (0 2)',
    ]);
    // This session's own STORE updates the context too.
    const own = await s.run("UID STORE 1 +FLAGS (\\Flagged)");
    expect(own.untagged).toEqual(["* 1 FETCH (UID 1 FLAGS (\\Flagged))", '* ESEARCH (TAG "B01") UID ADDTO (0 1)']);
    // §4.3: a tag in use by an updating search may not be reused.
    expect((await s.run("UID SEARCH RETURN (UPDATE) ALL", [], "B01")).done).toMatch(/^BAD Tag reuse/);
    // §4.3.5 example: CANCELUPDATE "B01"; then nothing more.
    expect((await s.run('CANCELUPDATE "B01"', [], "B04")).lines).toEqual(["B04 OK CANCELUPDATE completed"]);
    await s.backend.store(1, [3], "add", ["\\Flagged"], null);
    expect((await s.run("NOOP")).untagged).toEqual(["* 3 FETCH (UID 3 FLAGS (\\Flagged))"]);
    expect((await s.run('CANCELUPDATE "B01"')).done).toBe("NO No search with UPDATE has the tag B01");
  });

  test("message-number contexts: REMOVEFROM names the number before the EXPUNGE shifts it", async () => {
    const s = await five();
    expect((await s.run("SEARCH RETURN (UPDATE COUNT) NOT FLAGGED", [], "C1")).untagged).toEqual([
      '* ESEARCH (TAG "C1") COUNT 3',
    ]);
    await s.backend.expunge(1, [1, 3]);
    expect((await s.run("NOOP")).untagged).toEqual([
      '* ESEARCH (TAG "C1") REMOVEFROM (0 1,3)',
      "* 3 EXPUNGE",
      "* 1 EXPUNGE",
    ]);
    s.backend.deliver("INBOX", "Subject: f\r\n\r\nx\r\n");
    expect((await s.run("NOOP")).untagged).toEqual(["* 4 EXISTS", '* ESEARCH (TAG "C1") ADDTO (0 4)']);
  });

  test("SORT contexts: several removals, each at its position once the ones before it are gone", async () => {
    const s = await five();
    // By SUBJECT: a(4) b(2) d(5) e(3) first(1).
    await s.run("UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 ALL", [], "S2");
    await s.backend.expunge(1, [2, 3]);
    s.backend.deliver("INBOX", "Subject: c\r\n\r\nx\r\n");
    s.backend.deliver("INBOX", "Subject: z\r\n\r\nx\r\n");
    expect((await s.run("NOOP")).untagged).toEqual([
      '* ESEARCH (TAG "S2") UID REMOVEFROM (2 2) REMOVEFROM (3 3)',
      "* 3 EXPUNGE",
      "* 2 EXPUNGE",
      "* 5 EXISTS",
      '* ESEARCH (TAG "S2") UID ADDTO (2 6) ADDTO (5 7)',
    ]);
  });

  test("SORT RETURN (UPDATE): positions in sort order; PARTIAL windows; NOUPDATE past the limit", async () => {
    const s = await five();
    // Subjects by UID: 1 first, 2 b, 3 e, 4 a, 5 d; by SUBJECT: a(4) b(2) d(5) e(3) first(1).
    const sorted = await s.run("UID SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 ALL", [], "S1");
    expect(sorted.untagged).toEqual(['* ESEARCH (TAG "S1") UID ALL 4,2,5,3,1']);
    s.backend.deliver("INBOX", "Subject: c\r\n\r\nx\r\n");
    s.backend.deliver("INBOX", "Subject: ca\r\n\r\nx\r\n");
    // c(6) and ca(7) go in at position 3, before d (§4.3.3: the first of the set takes the position).
    expect((await s.run("NOOP")).untagged).toEqual(["* 7 EXISTS", '* ESEARCH (TAG "S1") UID ADDTO (3 6:7)']);
    await s.backend.expunge(1, [2]);
    expect((await s.run("NOOP")).untagged).toEqual(['* ESEARCH (TAG "S1") UID REMOVEFROM (2 2)', "* 2 EXPUNGE"]);
    // PARTIAL (§4.4): positions in sort order; past the end is shorter; none is NIL; 500:400 is 400:500.
    expect((await s.run("UID SORT RETURN (PARTIAL 2:3) (SUBJECT) UTF-8 ALL")).untagged[0]).toMatch(
      /UID PARTIAL \(2:3 6:7\)$/,
    );
    expect((await s.run("UID SEARCH RETURN (PARTIAL 5:9) ALL")).untagged[0]).toMatch(/UID PARTIAL \(5:9 6:7\)$/);
    expect((await s.run("UID SEARCH RETURN (PARTIAL 24500:24000) ALL")).untagged[0]).toMatch(
      /UID PARTIAL \(24000:24500 NIL\)$/,
    );
    const both = parseCommand({ text: "x SEARCH RETURN (PARTIAL 1:2 ALL) ALL", literals: [] }, { utf8Accept: false });
    expect(both.ok ? "" : both.message).toMatch(/at most one of PARTIAL and ALL/);
    // §4.3.1: past the limit the search still answers, with an untagged NO [NOUPDATE].
    for (let i = 2; i <= 8; i++) await s.run("SEARCH RETURN (UPDATE) ALL", [], `U${i}`);
    const refused = await s.run("SEARCH RETURN (UPDATE COUNT) ALL", [], "B02");
    expect(refused.untagged).toEqual([
      '* NO [NOUPDATE "B02"] Too many update contexts',
      '* ESEARCH (TAG "B02") COUNT 6',
    ]);
    expect(refused.done).toBe("OK SEARCH completed");
    // Contexts end with the selection (§4.3).
    await s.run("UNSELECT");
    await s.run("SELECT INBOX");
    s.backend.deliver("INBOX", "Subject: g\r\n\r\nx\r\n");
    expect((await s.run("NOOP")).untagged).toEqual(["* 7 EXISTS"]);
  });
});

describe("IMAP session: CATENATE (RFC 4469)", () => {
  const DRAFT = 'Subject: draft\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
    "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: text/plain\r\n\r\nworld\r\n--b--\r\n";

  test("a message made of TEXT literals and URL parts of stored messages, as in the RFC's §4 example", async () => {
    const s = open(new MemoryImapBackend(), 2000);
    s.backend.deliver("INBOX", "Subject: first\r\n\r\nbody\r\n");
    s.backend.deliver("INBOX", DRAFT);
    await s.run("LOGIN alice secret");
    const base = "/INBOX;UIDVALIDITY=1001/;UID=2";
    const r = await s.run(
      `APPEND Trash (\\Seen \\Draft $MDNSent) CATENATE (URL "${base}/;section=HEADER" TEXT {literal} ` +
        `URL "${base}/;SECTION=1.MIME" URL "${base}/;SECTION=1" TEXT {literal} URL "/INBOX;UIDVALIDITY=1001/;UID=1" ` +
        `TEXT {literal} URL "imap://alice%40example.org;AUTH=*@mx.example.org/INBOX/;UID=2/;SECTION=2/;PARTIAL=1.3" TEXT {literal})`,
      ["--b\r\n", "\r\n--b\r\nContent-Type: message/rfc822\r\n\r\n", "\r\n--b\r\n\r\n", "\r\n--b--\r\n"],
    );
    expect(r.done).toBe("OK [APPENDUID 1002 1] APPEND completed");
    await s.run("SELECT Trash");
    const fetched = await s.run("FETCH 1 (FLAGS BODY.PEEK[])");
    const header = DRAFT.slice(0, DRAFT.indexOf("\r\n\r\n") + 4);
    const expected = `${header}--b\r\nContent-Type: text/plain\r\n\r\nhello` +
      "\r\n--b\r\nContent-Type: message/rfc822\r\n\r\nSubject: first\r\n\r\nbody\r\n" +
      "\r\n--b\r\n\r\norl\r\n--b--\r\n";
    expect(fetched.untagged.join("\r\n")).toBe(
      `* 1 FETCH (FLAGS (\\Seen \\Draft $MDNSent \\Recent) BODY[] {${expected.length}}\r\n${expected})`,
    );
  });

  test("anything but the account's own messages is NO [BADURL] and stores nothing; too big is TOOBIG", async () => {
    const s = open(new MemoryImapBackend(), 100);
    s.backend.deliver("INBOX", DRAFT.slice(0, 90));
    await s.run("LOGIN alice secret");
    for (
      const url of [
        "/INBOX;UIDVALIDITY=999/;UID=1", // another UIDVALIDITY
        "/INBOX/;UID=7", // no such message
        "/Nowhere/;UID=1",
        "/INBOX/;UID=1/;SECTION=4", // no such part
        "/INBOX/;UID=1/;SECTION=HEADER.FIELDS%20(FROM)",
        "/INBOX/;UID=1/;URLAUTH=anonymous:internal:0123",
        "imap://bob@mx.example.org/INBOX/;UID=1", // another user
        "imap://mx.example.org/INBOX/;UID=1", // anonymous
        "http://example.org/INBOX/;UID=1",
        "/INBOX", // a mailbox, not a message
      ]
    ) {
      const r = await s.run(`APPEND Trash CATENATE (TEXT {literal} URL "${url}")`, ["x"]);
      expect(r.done, url).toBe(`NO [BADURL "${url}"] The URL names no message of this account`);
    }
    const quoted = await s.run('APPEND Trash CATENATE (URL "/a]\\"b")');
    expect(quoted.done).toBe('NO [BADURL "/a\\"b"] The URL names no message of this account');
    // Two copies of a 90-octet message would be 180 octets, over the 100 allowed.
    const big = await s.run('APPEND Trash CATENATE (URL "/INBOX/;UID=1" URL "/INBOX/;UID=1")');
    expect(big.done).toBe("NO [TOOBIG] The message would be too large");
    // MULTIAPPEND with a bad CATENATE stores none of the messages (RFC 3502 §3).
    const multi = await s.run('APPEND Trash {literal} CATENATE (URL "/INBOX/;UID=9")', ["Subject: ok\r\n\r\nx\r\n"]);
    expect(multi.done).toMatch(/^NO \[BADURL /);
    expect((await s.run("STATUS Trash (MESSAGES)")).untagged).toEqual(['* STATUS "Trash" (MESSAGES 0)']);
    expect((await s.run("APPEND Trash CATENATE (TEXT {literal})", [""])).done).toBe("NO Empty message");
  });
});

describe("IMAP session: NOTIFY (RFC 5465)", () => {
  const text = (out: Array<string | Uint8Array>) =>
    out.map((o) => (typeof o === "string" ? o : new TextDecoder().decode(o))).join("").split("\r\n").slice(0, -1);

  test("malformed requests get BAD, unsupported events NO [BADEVENT], NONE and SET OK", async () => {
    const s = await inState("authenticated");
    for (
      const line of [
        "NOTIFY SET (selected (MessageNew MessageExpunge)) (selected-delayed (MessageNew MessageExpunge))",
        "NOTIFY SET (personal (MessageNew))",
        "NOTIFY SET (selected (MessageExpunge))",
        "NOTIFY SET (personal (FlagChange))",
        "NOTIFY SET (selected (MailboxName))",
        "NOTIFY SET (personal (MessageNew (UID) MessageExpunge))",
      ]
    ) expect((await s.run(line)).done, line).toMatch(/^BAD /);
    for (const bad of ["NOTIFY", "NOTIFY SET", "NOTIFY SET (personal ())", "NOTIFY SET (everything (MailboxName))"]) {
      expect(parseCommand({ text: `x ${bad}`, literals: [] }, { utf8Accept: false }).ok, bad).toBe(false);
    }
    for (
      const line of ["NOTIFY SET (personal (SubscriptionChange))", "NOTIFY SET (personal (MailboxName FutureEvent))"]
    ) {
      expect((await s.run(line)).done).toBe(
        "NO [BADEVENT (MessageNew MessageExpunge FlagChange MailboxName)] Unsupported event",
      );
    }
    const ok = "NOTIFY SET (SELECTED-delayed (messagenew (uid body.peek[header.fields (subject)]) MESSAGEEXPUNGE " +
      "flagchange)) (personal NONE) (inboxes (MessageNew MessageExpunge MailboxName)) (subtree Lists (MailboxName))";
    expect((await s.run(ok)).done).toBe("OK NOTIFY completed");
    expect(s.session.notifying).toBe(true);
    expect((await s.run("NOTIFY NONE")).done).toBe("OK NOTIFY completed");
    expect(s.session.notifying).toBe(false);
  });

  test("STATUS for the other mailboxes, the selected one's events as they happen, LIST for names", async () => {
    const s = await inState("authenticated");
    await s.run("ENABLE IMAP4rev2");
    await s.run("SELECT Trash");
    // §3.1 STATUS indicator: STATUS now for the watched mailboxes but the selected one.
    const set = await s.run(
      "NOTIFY SET STATUS (selected (MessageNew (UID BODY.PEEK[HEADER.FIELDS (Subject)]) MessageExpunge)) " +
        "(personal (MessageNew MessageExpunge FlagChange MailboxName))",
    );
    expect(set.untagged).toEqual(['* STATUS "INBOX" (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 1001 UNSEEN 1)']);
    // A delivery to INBOX (§5.2): STATUS with MESSAGES and UIDNEXT.
    s.backend.deliver("INBOX", "Subject: two\r\n\r\nx\r\n");
    expect(text(await s.session.notifyUpdate())).toEqual(['* STATUS "INBOX" (MESSAGES 2 UIDNEXT 3 UNSEEN 2)']);
    // A flag change there (§5.1): UNSEEN.
    await s.backend.store(1, [1], "add", ["\\Seen"], null);
    expect(text(await s.session.notifyUpdate())).toEqual(['* STATUS "INBOX" (UNSEEN 1)']);
    // In the selected mailbox: EXISTS, then the fetch-att, which do not set \Seen.
    s.backend.deliver("Trash", "Subject: binned\r\n\r\nx\r\n");
    expect(text(await s.session.notifyUpdate())).toEqual([
      "* 1 EXISTS",
      "* 1 FETCH (UID 1 BODY[HEADER.FIELDS (SUBJECT)] {19}",
      "Subject: binned",
      "",
      ")",
    ]);
    // No FlagChange for the selected mailbox: flags change silently; an expunge is EXPUNGE at once (SELECTED).
    await s.backend.store(2, [1], "add", ["\\Flagged"], null);
    expect(text(await s.session.notifyUpdate())).toEqual([]);
    await s.backend.expunge(2, [1]);
    expect(text(await s.session.notifyUpdate())).toEqual(["* 1 EXPUNGE"]);
    // MailboxName (§5.4): created, renamed, deleted by another session.
    const created = await s.backend.createMailbox({ id: 1, address: "alice@example.org" }, "Projects", null);
    expect(text(await s.session.notifyUpdate())).toEqual(['* LIST () "/" "Projects"']);
    const id = created.ok ? created.value.id : 0;
    await s.backend.renameMailbox({ id: 1, address: "alice@example.org" }, id, "Plans");
    expect(text(await s.session.notifyUpdate())).toEqual(['* LIST () "/" "Plans" ("OLDNAME" ("Projects"))']);
    await s.backend.deleteMailbox({ id: 1, address: "alice@example.org" }, id);
    expect(text(await s.session.notifyUpdate())).toEqual(['* LIST (\\NonExistent) "/" "Plans"']);
    // What the session does itself is not reported back (§5).
    await s.run("APPEND INBOX {literal}", ["Subject: mine\r\n\r\nx\r\n"]);
    await s.run("CREATE Mine");
    expect(text(await s.session.notifyUpdate())).toEqual([]);
    // NOTIFY NONE: nothing more.
    await s.run("NOTIFY NONE");
    s.backend.deliver("INBOX", "Subject: three\r\n\r\nx\r\n");
    expect(text(await s.session.notifyUpdate())).toEqual([]);
  });
});
