/**
 * POP3 end to end: `postern serve` (on the runtime named by POSTERN_TEST_RUNTIME), mail put in
 * over SMTP, collected over POP3 with STLS and implicit TLS.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { LineClient } from "../helpers/line-client.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import type { ServerProcess } from "../helpers/server.ts";

let mail: MailServer;
let server: ServerProcess;
let dataDir: string;
const BIG = 3 * 1024 * 1024;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "pop3", "pop3s", "imaps"],
    users: { "carol@example.test": "carol-password", "dave@example.test": "dave-password" },
  });
  ({ server, dataDir } = mail);
  const smtp = nodemailer.createTransport({
    host: "127.0.0.1",
    port: server.ports.smtp,
    ignoreTLS: true,
    name: "client.test",
  });
  const send = (to: string, subject: string, body: string) =>
    smtp.sendMail({
      envelope: { from: "x@remote.test", to: [to] },
      raw: `From: x@remote.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${body}`,
    });
  await send("carol@example.test", "first", "line one\r\n.starts with a dot\r\nline three\r\n");
  await send("carol@example.test", "big", `${"0123456789abcdef".repeat(63)}\r\n`.repeat(BIG / 1010));
  for (const n of [1, 2, 3]) await send("dave@example.test", `dave ${n}`, `body ${n}\r\n`);
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

/** Opens a POP3 session and logs in (STLS + USER/PASS, or pop3s + AUTH PLAIN). */
async function login(user: string, password: string, how: "stls" | "pop3s" = "stls"): Promise<LineClient> {
  const client = await LineClient.connect(how === "pop3s" ? server.ports.pop3s! : server.ports.pop3!, {
    tls: how === "pop3s",
  });
  expect(await client.readLine()).toMatch(/^\+OK /);
  if (how === "stls") {
    await client.line("STLS");
    expect(await client.readLine()).toMatch(/^\+OK/);
    await client.startTls();
    await client.line(`USER ${user}`);
    expect(await client.readLine()).toMatch(/^\+OK/);
    await client.line(`PASS ${password}`);
  } else {
    await client.line(`AUTH PLAIN ${btoa(`\0${user}\0${password}`)}`);
  }
  expect(await client.readLine()).toMatch(/^\+OK Maildrop has \d+ messages/);
  return client;
}

/** Reads a multi-line response body up to the lone ".", undoing dot-stuffing. */
async function multiline(client: LineClient): Promise<string[]> {
  const lines: string[] = [];
  for (;;) {
    const line = await client.readLine(10_000);
    if (line === null) throw new Error("connection closed inside a multi-line response");
    if (line === ".") return lines;
    lines.push(line.startsWith(".") ? line.slice(1) : line);
  }
}

async function command(client: LineClient, text: string): Promise<string> {
  await client.line(text);
  return (await client.readLine())!;
}

describe(`POP3 on ${runtime()}`, () => {
  test("CAPA before TLS offers STLS but no passwords; USER in the clear is refused", async () => {
    const client = await LineClient.connect(server.ports.pop3!);
    await client.readLine();
    expect(await command(client, "CAPA")).toMatch(/^\+OK/);
    const caps = await multiline(client);
    expect(caps).toContain("STLS");
    expect(caps).toContain("UIDL");
    expect(caps).not.toContain("USER");
    expect(await command(client, "USER carol@example.test")).toMatch(/^-ERR \[AUTH\]/);
    expect(await command(client, "STAT")).toMatch(/^-ERR /);
    expect(await command(client, "QUIT")).toMatch(/^\+OK/);
  });

  test("STLS + USER/PASS: STAT, LIST, UIDL, TOP and RETR with dot-stuffing undone", async () => {
    const client = await login("carol@example.test", "carol-password");
    const stored = await readInbox(dataDir, "carol@example.test");
    expect(await command(client, "STAT")).toBe(`+OK 2 ${stored.reduce((n, m) => n + Buffer.byteLength(m.raw), 0)}`);
    await client.line("UIDL");
    await client.readLine();
    expect(await multiline(client)).toEqual(
      stored.map((m, i) => expect.stringMatching(new RegExp(`^${i + 1} \\d+\\.${m.uid}$`))),
    );
    await client.line("TOP 1 1");
    expect(await client.readLine()).toMatch(/^\+OK/);
    const head = await multiline(client);
    expect(head.at(-1)).toBe("line one");
    expect(head).toContain("Subject: first");
    await client.line("RETR 1");
    expect(await client.readLine()).toBe(`+OK ${Buffer.byteLength(stored[0]!.raw)} octets`);
    expect(`${(await multiline(client)).join("\r\n")}\r\n`).toBe(stored[0]!.raw);
    expect(await command(client, "RETR 9")).toMatch(/^-ERR /);
    expect(await command(client, "QUIT")).toMatch(/^\+OK .*\(0 messages deleted\)/);
  });

  test("RETR of a multi-megabyte message arrives intact over pop3s with AUTH PLAIN", async () => {
    const client = await login("carol@example.test", "carol-password", "pop3s");
    const stored = (await readInbox(dataDir, "carol@example.test")).find((m) => m.raw.includes("Subject: big"))!;
    expect(stored.raw.length).toBeGreaterThan(BIG - 2000);
    await client.line("RETR 2");
    expect(await client.readLine()).toMatch(/^\+OK \d+ octets/);
    expect(`${(await multiline(client)).join("\r\n")}\r\n`).toBe(stored.raw);
    await command(client, "QUIT");
  });

  test("UIDL is stable across sessions; a second session gets IN-USE", async () => {
    const first = await login("dave@example.test", "dave-password");
    await first.line("UIDL");
    await first.readLine();
    const uidl = await multiline(first);
    const second = await LineClient.connect(server.ports.pop3s!, { tls: true });
    await second.readLine();
    expect(await command(second, `AUTH PLAIN ${btoa("\0dave@example.test\0dave-password")}`)).toMatch(
      /^-ERR \[IN-USE\]/,
    );
    second.close();
    await command(first, "QUIT");
    const again = await login("dave@example.test", "dave-password", "pop3s");
    await again.line("UIDL");
    await again.readLine();
    expect(await multiline(again)).toEqual(uidl);
    await command(again, "QUIT");
  });

  test("DELE then a dropped connection keeps the message; DELE then QUIT removes it, and RETR marked \\Seen", async () => {
    const dropped = await login("dave@example.test", "dave-password");
    expect(await command(dropped, "DELE 1")).toMatch(/^\+OK/);
    expect(await command(dropped, "DELE 1")).toMatch(/^-ERR/);
    dropped.close();
    await Bun.sleep(100);
    expect(await readInbox(dataDir, "dave@example.test")).toHaveLength(3);

    const quitter = await login("dave@example.test", "dave-password");
    await quitter.line("RETR 2");
    await quitter.readLine();
    await multiline(quitter);
    expect(await command(quitter, "DELE 1")).toMatch(/^\+OK/);
    expect(await command(quitter, "STAT")).toMatch(/^\+OK 2 /);
    expect(await command(quitter, "QUIT")).toMatch(/\(1 messages deleted\)/);
    const left = await readInbox(dataDir, "dave@example.test");
    expect(left.map((m) => /Subject: (.*)/.exec(m.raw)![1])).toEqual(["dave 2", "dave 3"]);
    expect(left.map((m) => m.flags)).toEqual([["\\Seen"], []]);
  });

  test("an IMAP session on the same INBOX sees the POP3 deletion as an expunge", async () => {
    const imap = new ImapFlow({
      host: "127.0.0.1",
      port: server.ports.imaps!,
      secure: true,
      logger: false,
      auth: { user: "dave@example.test", pass: "dave-password" },
      tls: { rejectUnauthorized: false },
    });
    imap.on("error", () => {});
    await imap.connect();
    const lock = await imap.getMailboxLock("INBOX");
    try {
      const before = (imap.mailbox as { exists: number }).exists;
      const expunged = new Promise<number>((resolve) => imap.on("expunge", (e: { seq: number }) => resolve(e.seq)));
      const pop = await login("dave@example.test", "dave-password");
      expect(await command(pop, "DELE 1")).toMatch(/^\+OK/);
      expect(await command(pop, "QUIT")).toMatch(/\(1 messages deleted\)/);
      await imap.noop();
      expect(await Promise.race([expunged, Bun.sleep(3000).then(() => -1)])).toBe(1);
      expect((imap.mailbox as { exists: number }).exists).toBe(before - 1);
    } finally {
      lock.release();
      await imap.logout();
    }
  });

  test("wrong passwords, garbage and wrong-state commands get -ERR; nothing crashes", async () => {
    const client = await LineClient.connect(server.ports.pop3s!, { tls: true });
    await client.readLine();
    expect(await command(client, "PASS nope")).toMatch(/^-ERR Send USER first/);
    expect(await command(client, "USER carol@example.test")).toMatch(/^\+OK/);
    expect(await command(client, "PASS wrong")).toBe("-ERR [AUTH] Authentication failed");
    expect(await command(client, "FROB")).toBe("-ERR Unknown command");
    expect(await command(client, "RETR 1")).toMatch(/^-ERR RETR is not allowed in the AUTHORIZATION state/);
    await client.send(`${"x".repeat(10_000)}\r\n`);
    expect(await client.readLine()).toBe("-ERR Line too long");
    expect(await command(client, "QUIT")).toMatch(/^\+OK/);
  });
});
