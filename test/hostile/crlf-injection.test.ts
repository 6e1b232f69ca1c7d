/**
 * Issue 18: CR and LF in any client-supplied value — ENVID, ORCPT, the AUTH= parameter, the HELO
 * name, IMAP ID values, JMAP names and addresses — never reach a generated header field or a log
 * line unescaped. Real clients over real sockets against `postern serve` on the runtime named by
 * POSTERN_TEST_RUNTIME.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import { jmapSession } from "../helpers/jmap.ts";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

/** Header names an attacker tries to add; none may appear as a field of a stored message. */
const INJECTED = /^(bcc|x-injected|original-recipient-injected):/im;

let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "imap", "http"],
    users: { "jo@example.test": "jo-password" },
    config: { auth: { allowPlaintext: true } },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

/** Every message in jo's INBOX and Drafts, raw. */
async function storedMessages(): Promise<string[]> {
  const client = new ImapFlow({
    host: "127.0.0.1",
    port: mail.server.ports.imap!,
    secure: false,
    auth: { user: "jo@example.test", pass: "jo-password" },
    logger: false,
    tls: { rejectUnauthorized: false },
  });
  await client.connect();
  const out: string[] = [];
  try {
    for (const box of ["INBOX", "Drafts"]) {
      const lock = await client.getMailboxLock(box);
      try {
        for await (const m of client.fetch("1:*", { source: true })) out.push(m.source!.toString());
      } catch {
        // an empty mailbox
      } finally {
        lock.release();
      }
    }
  } finally {
    await client.logout();
  }
  return out;
}

/** The header section of a message, each field unfolded onto one line. */
function headerLines(raw: string): string[] {
  const end = raw.indexOf("\r\n\r\n");
  return raw.slice(0, end === -1 ? raw.length : end).replace(/\r\n[ \t]/g, " ").split("\r\n");
}

/** Each log line starts with its timestamp: a client's line break cannot start one of its own. */
function expectLogIntact(): void {
  const lines = mail.server.log().split("\n").filter(Boolean);
  for (const line of lines) expect(line).toMatch(/^time=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d|^Listening|^postern/);
  expect(lines.some((l) => /^(Bcc|X-Injected|Injected)/i.test(l))).toBe(false);
}

describe(`CRLF from clients on ${runtime()}`, () => {
  test("SMTP: ENVID, ORCPT and AUTH= with +0D+0A are 501 5.5.4; a HELO with control characters is 501", async () => {
    const smtp = await LineClient.connect(mail.server.ports.smtp!);
    try {
      expect((await smtp.reply())[0]).toStartWith("220");
      await smtp.line("EHLO bad\x1bname.test");
      expect((await smtp.reply())[0]).toStartWith("501 5.5.4");
      await smtp.line("EHLO client.test");
      expect((await smtp.reply()).at(-1)).toStartWith("250 ");
      const attempts: Array<[string, string]> = [
        ["MAIL FROM:<x@remote.test> ENVID=id+0D+0ABcc:+20victim@c.test", "501 5.5.4 Bad ENVID parameter syntax"],
        ["MAIL FROM:<x@remote.test> AUTH=x+40remote.test+0D+0AX-Injected:+201", "501 5.5.4 Bad AUTH parameter syntax"],
        ["MAIL FROM:<x@remote.test> ENVID=ok-id AUTH=<>", "250 2.1.0 Sender OK"],
        [
          "RCPT TO:<jo@example.test> NOTIFY=SUCCESS ORCPT=rfc822;jo+40example.test+0D+0ABcc:+20victim@c.test",
          "501 5.5.4 Bad ORCPT parameter syntax",
        ],
        ["RCPT TO:<jo@example.test> NOTIFY=SUCCESS ORCPT=rfc822;jo+40example.test", "250 2.1.5 Recipient OK"],
        ["DATA", "354 End data with <CR><LF>.<CR><LF>"],
      ];
      for (const [command, expected] of attempts) {
        await smtp.line(command);
        expect((await smtp.reply())[0]).toBe(expected);
      }
      await smtp.send("Subject: crlf probe\r\n\r\nhello\r\n.\r\n");
      expect((await smtp.reply())[0]).toStartWith("250 2.0.0");
      await smtp.line("QUIT");
    } finally {
      smtp.close();
    }
    const [message] = await storedMessages();
    expect(headerLines(message!).some((l) => l.startsWith("Received: from client.test ([127.0.0.1])"))).toBe(true);
    expect(INJECTED.test(message!.slice(0, message!.indexOf("\r\n\r\n")))).toBe(false);
    expectLogIntact();
  });

  test("IMAP: ID values with CR LF in a literal are answered and go nowhere", async () => {
    const imap = await LineClient.connect(mail.server.ports.imap!);
    try {
      await imap.readLine();
      const value = "Postern\r\nInjected: 1";
      await imap.line(`a ID ("name" {${value.length}}`);
      expect(await imap.readLine()).toStartWith("+");
      await imap.send(`${value} "version" "1")\r\n`);
      const lines = await imap.readUntil((l) => l.startsWith("a "));
      expect(lines.at(-1)).toStartWith("a OK");
      expect(lines.some((l) => l.startsWith("Injected"))).toBe(false);
    } finally {
      imap.close();
    }
    expectLogIntact();
  });

  test("JMAP: a name with CR LF is encoded, an address with one is refused", async () => {
    const jmap = await jmapSession(mail, "jo@example.test", "jo-password");
    const drafts = (await jmap.roles()).drafts!;
    const created = (await jmap.call("Email/set", {
      create: {
        named: {
          mailboxIds: { [drafts]: true },
          from: [{ name: "Jo\r\nBcc: victim@c.test", email: "jo@example.test" }],
          to: [{ name: 'Kim "K" \\', email: "kim@remote.test" }],
          subject: "hi\r\nX-Injected: 1",
          textBody: [{ partId: "1" }],
          bodyValues: { "1": { value: "text" } },
        },
        badAddress: {
          mailboxIds: { [drafts]: true },
          to: [{ email: "kim@remote.test\r\nX-Injected: 1" }],
          textBody: [{ partId: "1" }],
          bodyValues: { "1": { value: "text" } },
        },
      },
    })) as { created?: Record<string, unknown>; notCreated?: Record<string, { type: string }> };
    expect(Object.keys(created.created ?? {})).toEqual(["named"]);
    expect(created.notCreated?.badAddress?.type).toBe("invalidProperties");
    const draft = (await storedMessages()).find((m) => m.includes("=?UTF-8?B?"))!;
    const header = headerLines(draft);
    expect(INJECTED.test(header.join("\r\n"))).toBe(false);
    expect(header).toContain(
      `From: =?UTF-8?B?${Buffer.from("Jo\r\nBcc: victim@c.test").toString("base64")}?= <jo@example.test>`,
    );
    expect(header).toContain('To: "Kim \\"K\\" \\\\" <kim@remote.test>');
    expectLogIntact();
  });
});
