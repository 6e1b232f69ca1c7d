import { describe, expect, test } from "bun:test";
import { Pop3Session, type Pop3SessionOptions, type Pop3Step } from "../../src/pop3/session.ts";
import { MemoryPop3Backend } from "../helpers/pop3-backend.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const MESSAGES = ["Subject: one\r\n\r\nbody one\r\n", "Subject: two\r\n\r\n.dot\r\nl2\r\nl3\r\n"];

/** alice / secret with two messages. */
class FakeBackend extends MemoryPop3Backend {
  constructor() {
    super(MESSAGES.map((m) => enc.encode(m)), { uidl: (i) => `7.${i + 1}` });
  }
}

const OPTIONS: Pop3SessionOptions = {
  hostname: "pop.example.test",
  remoteAddress: "192.0.2.1",
  tls: { protocol: "TLSv1.3", cipher: "x" },
  allowPlaintextAuth: false,
  maxAuthFailures: 3,
  maxErrors: 20,
};

async function run(session: Pop3Session, line: string): Promise<{ text: string; step: Pop3Step }> {
  const step = await session.line({ kind: "line", bytes: enc.encode(line), crlf: true });
  const text = step.output.map((o) => (typeof o === "string" ? `${o}\r\n` : dec.decode(o))).join("");
  return { text, step };
}

async function loggedIn(backend = new FakeBackend(), options: Partial<Pop3SessionOptions> = {}) {
  const session = new Pop3Session({ ...OPTIONS, ...options }, backend);
  await run(session, "USER alice");
  expect((await run(session, "PASS secret")).text).toMatch(/^\+OK Maildrop has 2 messages/);
  return { session, backend };
}

describe("POP3 session", () => {
  test("each command in each state: allowed ones are dispatched, the others refused", async () => {
    const authorization = ["CAPA", "USER", "PASS", "AUTH", "STLS", "QUIT"];
    const transaction = ["CAPA", "STAT", "LIST", "RETR", "DELE", "NOOP", "RSET", "QUIT", "TOP", "UIDL"];
    const samples: Record<string, string> = {
      CAPA: "CAPA",
      USER: "USER bob",
      PASS: "PASS x",
      AUTH: "AUTH",
      STLS: "STLS",
      STAT: "STAT",
      LIST: "LIST",
      RETR: "RETR 1",
      DELE: "DELE 1",
      NOOP: "NOOP",
      RSET: "RSET",
      QUIT: "QUIT",
      TOP: "TOP 1 0",
      UIDL: "UIDL",
    };
    for (const [command, line] of Object.entries(samples)) {
      const fresh = new Pop3Session({ ...OPTIONS, tls: null, allowPlaintextAuth: true }, new FakeBackend());
      const a = (await run(fresh, line)).text;
      expect({ command, refused: a.includes("not allowed in the AUTHORIZATION state") }).toEqual({
        command,
        refused: !authorization.includes(command),
      });
      const { session } = await loggedIn();
      const t = (await run(session, line)).text;
      expect({ command, refused: t.includes("not allowed in the TRANSACTION state") }).toEqual({
        command,
        refused: !transaction.includes(command),
      });
    }
  });

  test("STAT, LIST, UIDL, TOP and RETR (dot-stuffed, \\Seen)", async () => {
    const { session, backend } = await loggedIn();
    expect((await run(session, "STAT")).text).toBe("+OK 2 56\r\n");
    expect((await run(session, "LIST")).text).toBe("+OK 2 messages\r\n1 26\r\n2 30\r\n.\r\n");
    expect((await run(session, "LIST 2")).text).toBe("+OK 2 30\r\n");
    expect((await run(session, "UIDL")).text).toBe("+OK\r\n1 7.1\r\n2 7.2\r\n.\r\n");
    expect((await run(session, "TOP 2 1")).text).toBe(
      "+OK Top of message follows\r\nSubject: two\r\n\r\n..dot\r\n.\r\n",
    );
    expect((await run(session, "RETR 2")).text).toBe("+OK 30 octets\r\nSubject: two\r\n\r\n..dot\r\nl2\r\nl3\r\n.\r\n");
    expect(backend.seen).toEqual([1]);
  });

  test("DELE marks, RSET unmarks, QUIT commits once and releases", async () => {
    const { session, backend } = await loggedIn();
    expect((await run(session, "DELE 1")).text).toBe("+OK Message 1 deleted\r\n");
    expect((await run(session, "RETR 1")).text).toBe("-ERR Message is deleted\r\n");
    expect((await run(session, "STAT")).text).toBe("+OK 1 30\r\n");
    await run(session, "RSET");
    expect((await run(session, "STAT")).text).toBe("+OK 2 56\r\n");
    await run(session, "DELE 2");
    const quit = await run(session, "QUIT");
    expect(quit.text).toMatch(/^\+OK .*\(1 messages deleted\)/);
    expect(quit.step.action.kind).toBe("close");
    expect(backend.committed).toEqual([[1]]);
    expect(backend.released).toBe(1);
  });

  test("a session that ends without QUIT deletes nothing and releases the lock", async () => {
    const { session, backend } = await loggedIn();
    await run(session, "DELE 1");
    session.release();
    expect(backend.committed).toEqual([]);
    expect(backend.locked).toBe(false);
  });

  test("IN-USE for a second session; AUTH PLAIN with and without initial response", async () => {
    const backend = new FakeBackend();
    await loggedIn(backend);
    const second = new Pop3Session(OPTIONS, backend);
    expect((await run(second, `AUTH PLAIN ${btoa("\0alice\0secret")}`)).text).toBe(
      "-ERR [IN-USE] Maildrop already locked by another session\r\n",
    );
    backend.locked = false;
    const third = new Pop3Session(OPTIONS, backend);
    expect((await run(third, "AUTH PLAIN")).text).toBe("+ \r\n");
    expect((await run(third, btoa("\0alice\0secret"))).text).toMatch(/^\+OK Maildrop/);
  });

  test("an over-long SASL response ends the AUTH exchange; the next line is a command (found by test/fuzz)", async () => {
    const session = new Pop3Session(OPTIONS, new FakeBackend());
    expect((await run(session, "AUTH PLAIN")).text).toBe("+ \r\n");
    expect((await session.line({ kind: "too-long", length: 9000, crlf: true })).output).toEqual(["-ERR Line too long"]);
    const quit = await run(session, "QUIT");
    expect(quit.text).toMatch(/^\+OK/);
    expect(quit.step.action.kind).toBe("close");
  });

  test("no passwords without TLS unless allowed; STLS resets; failures close the session", async () => {
    const clear = new Pop3Session({ ...OPTIONS, tls: null }, new FakeBackend());
    expect((await run(clear, "CAPA")).text).toBe(
      "+OK Capability list follows\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nPIPELINING\r\nSTLS\r\nIMPLEMENTATION Postern\r\n.\r\n",
    );
    expect((await run(clear, "USER alice")).text).toMatch(/^-ERR \[AUTH\]/);
    expect((await run(clear, "STLS")).step.action.kind).toBe("starttls");
    clear.tlsStarted({ protocol: "TLSv1.3", cipher: "x" });
    expect((await run(clear, "STLS")).text).toBe("-ERR TLS is already active\r\n");
    await run(clear, "USER alice");
    await run(clear, "PASS wrong");
    await run(clear, "USER alice");
    await run(clear, "PASS wrong");
    await run(clear, "USER alice");
    const last = await run(clear, "PASS wrong");
    expect(last.text).toMatch(/^-ERR \[AUTH\] Authentication failed; too many failures/);
    expect(last.step.action.kind).toBe("close");
  });

  test("bad arguments and garbage get -ERR with a reason", async () => {
    const { session } = await loggedIn();
    for (const line of ["RETR", "RETR x", "RETR 0", "RETR 3", "TOP 1", "TOP 1 x", "LIST 99", "DELE", "HELLO", ""]) {
      expect((await run(session, line)).text).toMatch(/^-ERR \S/);
    }
    expect((await session.line({ kind: "too-long", length: 5000, crlf: true })).output).toEqual(["-ERR Line too long"]);
  });
});
