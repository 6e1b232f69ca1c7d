/**
 * Load for the crash test: SMTP, IMAP APPEND and JMAP Email/import clients that keep sending
 * numbered messages to whatever port the server has now, reconnecting after every failure, and
 * remember which Message-IDs were acknowledged (250, tagged OK, `created`).
 */
import { LineClient } from "../helpers/line-client.ts";

export interface Tally {
  /** Message-IDs whose acknowledgement the client received. */
  acked: Set<string>;
  /** Message-IDs that were sent, acknowledged or not. */
  tried: Set<string>;
}

export interface Ports {
  smtp?: number;
  imap?: number;
  http?: number;
}

export interface LoadOptions {
  ports: () => Ports;
  stopped: () => boolean;
  /** Password of jo@example.test. */
  password: string;
}

let sequence = 0;

/** A small message whose Message-ID names the protocol and a sequence number. */
export function message(kind: string, to: string): { id: string; raw: string } {
  const id = `${kind}-${++sequence}-${Math.random().toString(36).slice(2, 8)}@crash.test`;
  const filler = "The quick brown fox jumps over the lazy dog. ".repeat(20);
  return {
    id,
    raw: `From: load@remote.test\r\nTo: ${to}\r\nMessage-ID: <${id}>\r\nSubject: crash ${id}\r\n\r\n${filler}\r\n`,
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs `session` again and again until stopped; every failure (a killed server) means reconnect. */
async function loop(options: LoadOptions, session: () => Promise<void>): Promise<void> {
  while (!options.stopped()) {
    await session().catch(() => {});
    await sleep(20 + Math.random() * 80);
  }
}

/** One SMTP client to the MX listener; `recipient()` picks the RCPT TO of each message. */
export function smtpLoad(options: LoadOptions, tally: Tally, recipient: () => string): Promise<void> {
  return loop(options, async () => {
    const port = options.ports().smtp;
    if (!port) throw new Error("no port");
    const c = await LineClient.connect(port);
    try {
      if (!(await c.reply(3000)).at(-1)!.startsWith("220")) return;
      await c.line("EHLO load.crash.test");
      await c.reply(3000);
      while (!options.stopped()) {
        const to = recipient();
        const m = message("smtp", to);
        tally.tried.add(m.id);
        await c.line("MAIL FROM:<load@remote.test>");
        if (!(await c.reply(5000)).at(-1)!.startsWith("250")) return;
        await c.line(`RCPT TO:<${to}>`);
        if (!(await c.reply(5000)).at(-1)!.startsWith("250")) return;
        await c.line("DATA");
        if (!(await c.reply(5000)).at(-1)!.startsWith("354")) return;
        await c.send(`${m.raw}.\r\n`);
        if ((await c.reply(15_000)).at(-1)!.startsWith("250")) tally.acked.add(m.id);
      }
      await c.line("QUIT");
    } finally {
      c.close();
    }
  });
}

/** One IMAP client appending to INBOX (RFC 9051 §6.3.12), with synchronising literals. */
export function imapLoad(options: LoadOptions, tally: Tally): Promise<void> {
  return loop(options, async () => {
    const port = options.ports().imap;
    if (!port) throw new Error("no port");
    const c = await LineClient.connect(port);
    try {
      await c.readLine(3000);
      await c.line(`L LOGIN jo@example.test ${options.password}`);
      if (!(await c.readUntil((l) => l.startsWith("L "), 5000)).at(-1)!.startsWith("L OK")) return;
      while (!options.stopped()) {
        const m = message("imap", "jo@example.test");
        tally.tried.add(m.id);
        await c.line(`A APPEND INBOX {${m.raw.length}}`);
        if (!(await c.readLine(5000))?.startsWith("+")) return;
        await c.send(`${m.raw}\r\n`);
        if ((await c.readUntil((l) => l.startsWith("A "), 15_000)).at(-1)!.startsWith("A OK")) tally.acked.add(m.id);
      }
    } finally {
      c.close();
    }
  });
}

/** One JMAP client: upload a blob, then Email/import it into INBOX (RFC 8621 §4.8). */
export function jmapLoad(options: LoadOptions, tally: Tally): Promise<void> {
  const authorization = `Basic ${btoa(`jo@example.test:${options.password}`)}`;
  return loop(options, async () => {
    const port = options.ports().http;
    if (!port) throw new Error("no port");
    const base = `http://127.0.0.1:${port}`;
    const session = (await (await fetch(`${base}/jmap/session`, { headers: { authorization } })).json()) as {
      primaryAccounts: Record<string, string>;
    };
    const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"]!;
    const api = (body: unknown) =>
      fetch(`${base}/jmap/api`, {
        method: "POST",
        headers: { authorization, "content-type": "application/json" },
        body: JSON.stringify(body),
      }).then((r) => r.json());
    const boxes = (await api({
      using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
      methodCalls: [["Mailbox/query", { accountId, filter: { role: "inbox" } }, "q"]],
    })) as { methodResponses: [[string, { ids: string[] }, string]] };
    const inbox = boxes.methodResponses[0][1].ids[0]!;
    while (!options.stopped()) {
      const m = message("jmap", "jo@example.test");
      tally.tried.add(m.id);
      const upload = (await (await fetch(`${base}/jmap/upload/${accountId}`, {
        method: "POST",
        headers: { authorization },
        body: m.raw,
      })).json()) as { blobId: string };
      const result = (await api({
        using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        methodCalls: [["Email/import", {
          accountId,
          emails: { e: { blobId: upload.blobId, mailboxIds: { [inbox]: true } } },
        }, "i"]],
      })) as { methodResponses: [[string, { created?: Record<string, unknown> }, string]] };
      if (result.methodResponses[0][1].created?.e) tally.acked.add(m.id);
    }
  });
}
