/**
 * One change feed for every protocol (issue 14): a change written over SMTP, IMAP, POP3, JMAP or
 * REST wakes an IMAP IDLE session on INBOX and a JMAP EventSource of the same account within a
 * second of the write completing. `postern serve` runs on the runtime named by POSTERN_TEST_RUNTIME.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const ADMIN = "change-feed-admin-token-0123456789";
/** How long after a write's completion both listeners must have woken. */
const BUDGET_MS = 1000;
/** How long to wait for a wake before calling it missing (longer than the budget, to measure a late one). */
const GIVE_UP_MS = 2500;
const WRITERS = ["smtp", "imap-append", "imap-store", "pop3-retr", "pop3-dele", "jmap", "rest"] as const;
type Writer = (typeof WRITERS)[number];

let mail: MailServer;
let base: string;

const address = (writer: Writer) => `${writer}@example.test`;
const password = (writer: Writer) => `${writer}-password`;
const basic = (writer: Writer) => `Basic ${btoa(`${address(writer)}:${password(writer)}`)}`;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "imaps", "pop3s", "http"],
    // One account per writer, so no test sees another's changes.
    users: Object.fromEntries(WRITERS.map((w) => [address(w), password(w)])),
    config: { api: { adminToken: ADMIN } },
  });
  base = `http://127.0.0.1:${mail.server.ports.http}`;
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

function smtp(to: string, subject: string) {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({
      envelope: { from: "x@remote.test", to: [to] },
      raw:
        `From: x@remote.test\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${crypto.randomUUID()}@remote.test>\r\n\r\nhello\r\n`,
    });
}

/** A listener that has noticed a change at `at` (performance.now()), or not yet. */
interface Wake {
  at: number | null;
  what: string;
}

/** An IMAP session (raw, over imaps) in IDLE on INBOX; `wake` fills in on the first untagged EXISTS/EXPUNGE/FETCH. */
async function idleSession(writer: Writer) {
  const client = await LineClient.connect(mail.server.ports.imaps!, { tls: true });
  const wake: Wake = { at: null, what: "" };
  try {
    expect(await client.readLine()).toMatch(/^\* OK/);
    await client.line(`a LOGIN ${address(writer)} "${password(writer)}"`);
    expect((await client.readUntil((l) => l.startsWith("a "))).at(-1)).toMatch(/^a OK/);
    await client.line("b SELECT INBOX");
    expect((await client.readUntil((l) => l.startsWith("b "))).at(-1)).toMatch(/^b OK/);
    await client.line("c IDLE");
    expect(await client.readLine()).toMatch(/^\+ /);
  } catch (e) {
    client.close();
    throw e;
  }
  // The only reader of the socket from here on; it returns at IDLE's tagged completion or the end.
  const reading = (async () => {
    for (;;) {
      const line = await client.readLine(60_000);
      if (line === null || line.startsWith("c ")) return;
      if (wake.at === null && /^\* \d+ (EXISTS|EXPUNGE|FETCH)\b/i.test(line)) {
        wake.at = performance.now();
        wake.what = line;
      }
    }
  })().catch(() => {});
  return {
    wake,
    async close() {
      await client.line("DONE").catch(() => {});
      await Promise.race([reading, Bun.sleep(2000)]);
      await client.line("z LOGOUT").catch(() => {});
      client.close();
      await reading;
    },
  };
}

/** The JMAP EventSource named by the session resource, types=*; `wake` fills in on the first `state` event after the initial one. */
async function eventSource(writer: Writer) {
  const session = await fetch(`${base}/.well-known/jmap`, { headers: { authorization: basic(writer) } });
  expect(session.status).toBe(200);
  const { eventSourceUrl } = (await session.json()) as { eventSourceUrl: string };
  const url = eventSourceUrl.replace("{types}", "*").replace("{closeafter}", "no").replace("{ping}", "0");
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { authorization: basic(writer), accept: "text/event-stream" },
    signal: abort.signal,
  });
  expect(response.status).toBe(200);
  expect(response.headers.get("content-type")).toContain("text/event-stream");
  const reader = response.body!.getReader();
  const wake: Wake = { at: null, what: "" };
  const states: string[] = [];
  let initial!: () => void;
  const gotInitial = new Promise<void>((resolve) => (initial = resolve));
  const reading = (async () => {
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      // Events end with a blank line.
      for (let end = buffer.indexOf("\n\n"); end !== -1; end = buffer.indexOf("\n\n")) {
        const event = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (!/^event: ?state$/m.test(event)) continue;
        states.push(event);
        if (states.length === 1) initial();
        else if (wake.at === null) {
          wake.at = performance.now();
          wake.what = event.replace(/\n/g, " ");
        }
      }
    }
  })().catch(() => {});
  await Promise.race([
    gotInitial,
    Bun.sleep(GIVE_UP_MS).then(() => Promise.reject(new Error("no initial state event on the EventSource"))),
  ]);
  return {
    wake,
    states,
    async close() {
      await reader.cancel().catch(() => {});
      abort.abort();
      await reading;
    },
  };
}

/**
 * Opens both listeners on the writer's account, runs `write`, and checks that both woke no later
 * than BUDGET_MS after `write` resolved.
 */
async function expectBothWake(writer: Writer, write: () => Promise<unknown>) {
  const idle = await idleSession(writer);
  const source = await eventSource(writer).catch(async (e) => {
    await idle.close();
    throw e;
  });
  try {
    // Nothing has changed yet: neither has woken.
    await Bun.sleep(50);
    expect(idle.wake.at).toBeNull();
    expect(source.wake.at).toBeNull();
    const started = performance.now();
    await write();
    const completed = performance.now();
    const deadline = completed + GIVE_UP_MS;
    while ((idle.wake.at === null || source.wake.at === null) && performance.now() < deadline) await Bun.sleep(5);
    const late = (w: Wake) => (w.at === null ? null : Math.round(w.at - completed));
    const measured = {
      writeMs: Math.round(completed - started),
      imapIdleMs: late(idle.wake),
      eventSourceMs: late(source.wake),
      imap: idle.wake.what,
      jmap: source.wake.what,
    };
    expect(measured.imapIdleMs, `IMAP IDLE not woken (${JSON.stringify(measured)})`).not.toBeNull();
    expect(measured.eventSourceMs, `EventSource not woken (${JSON.stringify(measured)})`).not.toBeNull();
    expect(measured.imapIdleMs!, `IMAP IDLE woke late (${JSON.stringify(measured)})`).toBeLessThanOrEqual(BUDGET_MS);
    expect(measured.eventSourceMs!, `EventSource woke late (${JSON.stringify(measured)})`).toBeLessThanOrEqual(
      BUDGET_MS,
    );
    // Woken by this write, not before it started.
    expect(idle.wake.at!).toBeGreaterThanOrEqual(started);
    expect(source.wake.at!).toBeGreaterThanOrEqual(started);
    return measured;
  } finally {
    await Promise.all([idle.close(), source.close()]);
  }
}

async function imapClient(writer: Writer): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: "127.0.0.1",
    port: mail.server.ports.imaps!,
    secure: true,
    logger: false,
    auth: { user: address(writer), pass: password(writer) },
    tls: { rejectUnauthorized: false },
  });
  client.on("error", () => {});
  await client.connect();
  return client;
}

/** A POP3 session over pop3s, logged in with AUTH PLAIN. */
async function pop3(writer: Writer): Promise<LineClient> {
  const client = await LineClient.connect(mail.server.ports.pop3s!, { tls: true });
  expect(await client.readLine()).toMatch(/^\+OK/);
  await client.line(`AUTH PLAIN ${btoa(`\0${address(writer)}\0${password(writer)}`)}`);
  expect(await client.readLine()).toMatch(/^\+OK/);
  return client;
}

async function jmap(writer: Writer, methodCalls: unknown[]) {
  const res = await fetch(`${base}/jmap/api`, {
    method: "POST",
    headers: { authorization: basic(writer), "content-type": "application/json" },
    body: JSON.stringify({ using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], methodCalls }),
  });
  expect(res.status).toBe(200);
  return ((await res.json()) as { methodResponses: Array<[string, Record<string, unknown>, string]> }).methodResponses;
}

describe(`the change feed on ${runtime()}`, () => {
  test("SMTP delivery wakes IMAP IDLE (EXISTS) and the EventSource", async () => {
    const measured = await expectBothWake("smtp", () => smtp(address("smtp"), "delivered while idling"));
    expect(measured.imap).toMatch(/EXISTS/);
  });

  test("IMAP APPEND from a second connection wakes IMAP IDLE (EXISTS) and the EventSource", async () => {
    const writer = await imapClient("imap-append");
    try {
      const measured = await expectBothWake(
        "imap-append",
        () =>
          writer.append(
            "INBOX",
            "From: a@example.test\r\nTo: imap-append@example.test\r\nSubject: appended\r\n\r\nhi\r\n",
          ),
      );
      expect(measured.imap).toMatch(/EXISTS/);
    } finally {
      await writer.logout();
    }
  });

  test("IMAP STORE from a second connection wakes IMAP IDLE (FETCH) and the EventSource", async () => {
    await smtp(address("imap-store"), "to be flagged over imap");
    const writer = await imapClient("imap-store");
    try {
      const lock = await writer.getMailboxLock("INBOX");
      try {
        const measured = await expectBothWake("imap-store", () => writer.messageFlagsAdd("1:*", ["\\Flagged"]));
        expect(measured.imap).toMatch(/FETCH/);
      } finally {
        lock.release();
      }
    } finally {
      await writer.logout();
    }
  });

  test("POP3 RETR (which sets \\Seen) wakes IMAP IDLE (FETCH) and the EventSource", async () => {
    await smtp(address("pop3-retr"), "to be read over pop3");
    const client = await pop3("pop3-retr");
    try {
      const measured = await expectBothWake("pop3-retr", async () => {
        await client.line("RETR 1");
        expect(await client.readLine()).toMatch(/^\+OK/);
        await client.readUntil((l) => l === ".");
      });
      expect(measured.imap).toMatch(/FETCH/);
    } finally {
      await client.line("QUIT").catch(() => {});
      client.close();
    }
  });

  test("POP3 DELE + QUIT wakes IMAP IDLE (EXPUNGE) and the EventSource", async () => {
    await smtp(address("pop3-dele"), "to be deleted over pop3");
    const client = await pop3("pop3-dele");
    try {
      expect(await (async () => (await client.line("DELE 1"), client.readLine()))()).toMatch(/^\+OK/);
      const measured = await expectBothWake("pop3-dele", async () => {
        await client.line("QUIT");
        expect(await client.readLine()).toMatch(/^\+OK/);
      });
      expect(measured.imap).toMatch(/EXPUNGE/);
    } finally {
      client.close();
    }
  });

  test("JMAP Email/set keywords wakes IMAP IDLE (FETCH) and the EventSource", async () => {
    await smtp(address("jmap"), "to be flagged over jmap");
    const session =
      (await (await fetch(`${base}/jmap/session`, { headers: { authorization: basic("jmap") } })).json()) as {
        primaryAccounts: Record<string, string>;
      };
    const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"]!;
    const query = (await jmap("jmap", [["Email/query", { accountId }, "q"]]))[0]![1] as { ids: string[] };
    expect(query.ids).toHaveLength(1);
    const id = query.ids[0]!;
    const measured = await expectBothWake("jmap", async () => {
      const [name, result] =
        (await jmap("jmap", [["Email/set", { accountId, update: { [id]: { "keywords/$flagged": true } } }, "s"]]))[0]!;
      expect(name).toBe("Email/set");
      expect(Object.keys((result.updated as object | undefined) ?? {})).toEqual([id]);
    });
    expect(measured.imap).toMatch(/FETCH/);
  });

  test("REST PATCH addFlags wakes IMAP IDLE (FETCH) and the EventSource", async () => {
    await smtp(address("rest"), "to be flagged over rest");
    const admin = (method: string, path: string, body?: unknown) =>
      fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { "content-type": "application/json" } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
    const page = (await (await admin("GET", `/api/v1/accounts/${address("rest")}/messages`)).json()) as {
      messages: Array<{ id: number }>;
    };
    expect(page.messages).toHaveLength(1);
    const measured = await expectBothWake("rest", async () => {
      const res = await admin("PATCH", `/api/v1/accounts/${address("rest")}/messages/${page.messages[0]!.id}`, {
        addFlags: ["\\Flagged"],
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { flags: string[] }).flags).toContain("\\Flagged");
    });
    expect(measured.imap).toMatch(/FETCH/);
  });
});
