/**
 * Account quotas (`postern user add … --quota BYTES`): SMTP refuses the recipient once the
 * account is full (552 5.2.2 at RCPT, and for an alias whose every target is full), IMAP APPEND answers NO [OVERQUOTA] when the message would
 * not fit, JMAP Email/import reports overQuota — and nothing is stored by a refused write.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";

const QUOTA = 6000;
let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "imap", "http"],
    users: {},
    setup: [
      ["user", "add", "small@example.test", "--password", "small-password", "--quota", String(QUOTA)],
      ["user", "add", "roomy@example.test", "--password", "roomy-password"],
      ["alias", "add", "team@example.test", "small@example.test"],
      ["alias", "add", "both@example.test", "small@example.test", "roomy@example.test"],
    ],
    config: { auth: { allowPlaintext: true } },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const message = (subject: string, bytes: number) =>
  `From: a@remote.test\r\nTo: small@example.test\r\nSubject: ${subject}\r\n\r\n${"x".repeat(bytes)}\r\n`;

function send(raw: string, to = "small@example.test") {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({ envelope: { from: "a@remote.test", to: [to] }, raw })
    .then((info) => info.response, (e: { response?: string }) => e.response ?? String(e));
}

describe(`quotas on ${runtime()}`, () => {
  test("IMAP APPEND that would not fit gets NO [OVERQUOTA]; one that fits is stored", async () => {
    const imap = await LineClient.connect(mail.server.ports.imap!);
    await imap.readLine();
    await imap.line("a LOGIN small@example.test small-password");
    expect((await imap.readUntil((l) => l.startsWith("a "))).at(-1)).toStartWith("a OK");
    const big = message("too big", QUOTA);
    await imap.line(`b APPEND INBOX {${big.length}}`);
    expect(await imap.readLine()).toStartWith("+");
    await imap.send(`${big}\r\n`);
    expect((await imap.readUntil((l) => l.startsWith("b "))).at(-1)).toBe("b NO [OVERQUOTA] Quota exceeded");
    const small = message("fits", 2000);
    await imap.line(`c APPEND INBOX {${small.length}}`);
    await imap.readLine();
    await imap.send(`${small}\r\n`);
    expect((await imap.readUntil((l) => l.startsWith("c "))).at(-1)).toStartWith("c OK [APPENDUID");
    await imap.line("d LOGOUT");
    imap.close();
  });

  test("JMAP Email/import over the quota is notCreated with overQuota", async () => {
    const basic = `Basic ${btoa("small@example.test:small-password")}`;
    const base = `http://127.0.0.1:${mail.server.ports.http}`;
    const session = (await (await fetch(`${base}/jmap/session`, { headers: { authorization: basic } })).json()) as {
      primaryAccounts: Record<string, string>;
    };
    const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"]!;
    const upload = await fetch(`${base}/jmap/upload/${accountId}`, {
      method: "POST",
      headers: { authorization: basic, "content-type": "message/rfc822" },
      body: message("imported", QUOTA),
    });
    const { blobId } = (await upload.json()) as { blobId: string };
    const call = async (calls: unknown[]) =>
      ((await (await fetch(`${base}/jmap/api`, {
        method: "POST",
        headers: { authorization: basic, "content-type": "application/json" },
        body: JSON.stringify({ using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"], methodCalls: calls }),
      })).json()) as { methodResponses: [string, Record<string, unknown>, string][] }).methodResponses;
    const [[, boxes]] = await call([["Mailbox/get", { accountId, properties: ["role"] }, "0"]]) as [
      [string, { list: { id: string; role: string | null }[] }, string],
    ];
    const inbox = boxes.list.find((b) => b.role === "inbox")!.id;
    const imported =
      (await call([["Email/import", { accountId, emails: { one: { blobId, mailboxIds: { [inbox]: true } } } }, "1"]]))[
        0
      ]![1];
    expect(imported.notCreated).toEqual({ one: { type: "overQuota" } });
    expect(imported.created).toEqual({});
  });

  test("SMTP accepts mail while there is room, then refuses the recipient with 552 5.2.2", async () => {
    // 2,000 of 6,000 bytes are used: this one fits at RCPT time and takes the account over.
    expect(await send(message("first", 4500))).toMatch(/^250 /);
    expect(await send(message("second", 100))).toMatch(/^552 5\.2\.2 Mailbox full/);
    const stored = await readInbox(mail.dataDir, "small@example.test");
    expect(stored.map((m) => /Subject: (\w+)/.exec(m.raw)?.[1])).toEqual(["fits", "first"]);
  });

  test("an alias whose only target is the full account is full too; one with another target still takes mail", async () => {
    expect(await send(message("aliased", 100), "team@example.test")).toMatch(/^552 5\.2\.2 Mailbox full/);
    expect(await send(message("shared", 100), "both@example.test")).toMatch(/^250 /);
    const roomy = await readInbox(mail.dataDir, "roomy@example.test");
    expect(roomy.map((m) => /Subject: (\w+)/.exec(m.raw)?.[1])).toEqual(["shared"]);
  });
});
