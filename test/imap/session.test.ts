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

function open(backend = new MemoryImapBackend()) {
  const session = new ImapSession({
    hostname: "mx.example.org",
    remoteAddress: "192.0.2.1",
    tls: TLS,
    allowPlaintextAuth: false,
    maxAuthFailures: 3,
  }, backend);
  let n = 0;
  /** Runs one command line (a literal as `{literal}`); returns the output lines without CRLF. */
  const run = async (line: string, literals: string[] = []) => {
    const tag = `a${++n}`;
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
