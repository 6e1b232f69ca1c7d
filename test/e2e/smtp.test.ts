/**
 * SMTP end to end: `postern serve` (on the runtime named by POSTERN_TEST_RUNTIME) receiving
 * mail from nodemailer over plain SMTP, STARTTLS and implicit TLS, with AUTH; what it stores is
 * read back from its database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth";
import nodemailer from "nodemailer";
import { LineClient } from "../helpers/line-client.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import type { ServerProcess } from "../helpers/server.ts";

let mail: MailServer;
let server: ServerProcess;
let dataDir: string;
const dkimKeys = generateKeyPairSync("rsa", { modulusLength: 2048 });

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "submission", "submissions", "http"],
    config: { limits: { messageSize: 200_000 } },
    users: { "alice@example.test": "alice-password", "bob@example.test": "bob-password" },
    setup: [["alias", "add", "team@example.test", "alice@example.test", "bob@example.test"]],
  });
  ({ server, dataDir } = mail);
  // Sender checks ask this local DNS server: remote.test allows 127.0.0.1 and publishes a DKIM key.
  mail.dns.add("remote.test", { type: "TXT", text: "v=spf1 ip4:127.0.0.1 -all" });
  mail.dns.add("sel._domainkey.remote.test", {
    type: "TXT",
    text: `v=DKIM1; k=rsa; p=${dkimKeys.publicKey.export({ type: "spki", format: "der" }).toString("base64")}`,
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

function transport(listener: "smtp" | "submission" | "submissions", extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: "127.0.0.1",
    port: server.ports[listener],
    secure: listener === "submissions",
    name: "client.test",
    tls: { rejectUnauthorized: false },
    ...extra,
  });
}

const message = (subject: string, from = "sender@remote.test", to = "alice@example.test") =>
  `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${
    subject.replace(/\W/g, "")
  }@remote.test>\r\n\r\nHello ${subject}\r\n`;

describe(`SMTP on ${runtime()}`, () => {
  test("inbound over plain SMTP lands in the INBOX with Received and Authentication-Results", async () => {
    const info = await transport("smtp", { ignoreTLS: true }).sendMail({
      envelope: { from: "sender@remote.test", to: ["alice@example.test"] },
      raw: message("plain inbound"),
    });
    expect(info.response).toMatch(/^250 2\.0\.0 /);
    const inbox = await readInbox(dataDir, "alice@example.test");
    const stored = inbox.find((m) => m.raw.includes("Subject: plain inbound"));
    expect(stored).toBeDefined();
    expect(stored!.raw).toMatch(/^(Received-SPF|Authentication-Results|ARC-|Received:)/);
    expect(stored!.raw).toContain("Authentication-Results: mx.postern.test");
    expect(stored!.raw).toMatch(/spf=pass \(mx\.postern\.test: domain of sender@remote\.test designates 127\.0\.0\.1/);
    expect(stored!.raw).toMatch(
      /Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.postern\.test \(Postern\) with ESMTP id/,
    );
    expect(stored!.raw).toEndWith("Hello plain inbound\r\n");
  });

  test("a DKIM signature is verified against the sender's DNS key: pass, and fail once tampered", async () => {
    const raw = message("dkim signed");
    const signed = await dkimSign(
      raw,
      {
        signatureData: [{
          signingDomain: "remote.test",
          selector: "sel",
          privateKey: dkimKeys.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
        }],
      } as unknown as Parameters<typeof dkimSign>[1],
    );
    const send = (body: string) =>
      transport("smtp", { ignoreTLS: true }).sendMail({
        envelope: { from: "sender@remote.test", to: ["alice@example.test"] },
        raw: body,
      });
    await send(signed.signatures + raw);
    await send(signed.signatures + raw.replace("Hello dkim signed", "Hello tampered body"));
    const inbox = await readInbox(dataDir, "alice@example.test");
    const intact = inbox.find((m) => m.raw.includes("Hello dkim signed"))!;
    const tampered = inbox.find((m) => m.raw.includes("Hello tampered body"))!;
    expect(intact.raw).toMatch(/Authentication-Results: mx\.postern\.test;[^]*dkim=pass header\.d=remote\.test/);
    expect(tampered.raw).toMatch(
      /Authentication-Results: mx\.postern\.test;[^]*dkim=fail \(body hash did not verify\)/,
    );
  });

  test("STARTTLS is used when offered, and the Received header says so", async () => {
    const info = await transport("smtp", { requireTLS: true }).sendMail({
      envelope: { from: "sender@remote.test", to: ["bob@example.test"] },
      raw: message("over starttls", "sender@remote.test", "bob@example.test"),
    });
    expect(info.response).toMatch(/^250 /);
    const stored = (await readInbox(dataDir, "bob@example.test")).find((m) => m.raw.includes("over starttls"));
    expect(stored!.raw).toMatch(/with ESMTPS id \w+\r\n\t\(version=TLSv1\.[23] cipher=/);
  });

  test("several recipients and an alias share one blob, one row each", async () => {
    const info = await transport("smtp", { ignoreTLS: true }).sendMail({
      envelope: { from: "sender@remote.test", to: ["alice@example.test", "bob@example.test", "team@example.test"] },
      raw: message("to many"),
    });
    expect(info.accepted).toHaveLength(3);
    const a = (await readInbox(dataDir, "alice@example.test")).filter((m) => m.raw.includes("to many"));
    const b = (await readInbox(dataDir, "bob@example.test")).filter((m) => m.raw.includes("to many"));
    expect(a).toHaveLength(1);
    expect(b).toHaveLength(1);
    expect(a[0]!.blobHash).toBe(b[0]!.blobHash);
  });

  test("unknown users and relaying are refused; accepted recipients still get the mail", async () => {
    const info = await transport("smtp", { ignoreTLS: true }).sendMail({
      envelope: {
        from: "sender@remote.test",
        to: ["alice@example.test", "nobody@example.test", "someone@elsewhere.test"],
      },
      raw: message("partial"),
    });
    expect(info.accepted).toEqual(["alice@example.test"]);
    expect(info.rejectedErrors?.map((e) => (e as { response?: string }).response?.slice(0, 9))).toEqual([
      "550 5.1.1",
      "554 5.7.1",
    ]);
  });

  test("a message over the size limit is refused with 552 and not stored", async () => {
    const big = `${message("too big")}${"x".repeat(76)}\r\n`.repeat(3000);
    const error = await transport("smtp", { ignoreTLS: true })
      .sendMail({ envelope: { from: "sender@remote.test", to: ["alice@example.test"] }, raw: big })
      .catch((e: { responseCode?: number; response?: string }) => e);
    expect((error as { response?: string }).response).toMatch(/^552 5\.3\.4/);
    expect((await readInbox(dataDir, "alice@example.test")).some((m) => m.raw.includes("too big"))).toBe(false);
  });

  test("8-bit content and UTF-8 addresses (SMTPUTF8)", async () => {
    const info = await transport("smtp", { ignoreTLS: true }).sendMail({
      envelope: { from: "jöse@remote.test", to: ["alice@example.test"] },
      raw:
        `From: jöse@remote.test\r\nTo: alice@example.test\r\nSubject: grüße\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nçà et là\r\n`,
    });
    expect(info.response).toMatch(/^250 /);
    const stored = (await readInbox(dataDir, "alice@example.test")).find((m) => m.raw.includes("grüße"));
    expect(stored!.raw).toContain("çà et là");
    expect(stored!.raw).toContain("with UTF8SMTP");
  });

  test("submission on 587: AUTH PLAIN after STARTTLS, mail to a remote domain is queued", async () => {
    const info = await transport("submission", {
      requireTLS: true,
      auth: { user: "alice@example.test", pass: "alice-password", method: "PLAIN" },
    }).sendMail({
      envelope: { from: "alice@example.test", to: ["bob@example.test", "friend@remote.test"] },
      raw: message("submitted", "alice@example.test", "friend@remote.test"),
    });
    expect(info.accepted).toEqual(["bob@example.test", "friend@remote.test"]);
    const stored = (await readInbox(dataDir, "bob@example.test")).find((m) => m.raw.includes("submitted"));
    expect(stored!.raw).toContain("with ESMTPSA id");
    expect(stored!.raw).toStartWith(
      "Authentication-Results: mx.postern.test; auth=pass smtp.auth=alice@example.test\r\nReceived: ",
    );
  });

  test("submission on 465 (implicit TLS) with AUTH LOGIN", async () => {
    const info = await transport("submissions", {
      auth: { user: "bob@example.test", pass: "bob-password", method: "LOGIN" },
    }).sendMail({
      envelope: { from: "bob@example.test", to: ["alice@example.test"] },
      raw: message("implicit tls", "bob@example.test"),
    });
    expect(info.response).toMatch(/^250 /);
  });

  test("submission refuses a wrong password, a missing AUTH and a foreign From", async () => {
    const wrong = await transport("submission", { requireTLS: true, auth: { user: "alice@example.test", pass: "bad" } })
      .sendMail({ envelope: { from: "alice@example.test", to: ["bob@example.test"] }, raw: message("x") })
      .catch((e: { response?: string }) => e.response);
    expect(wrong).toMatch(/^535 5\.7\.8/);

    const anonymous = await transport("submission", { requireTLS: true })
      .sendMail({ envelope: { from: "alice@example.test", to: ["bob@example.test"] }, raw: message("x") })
      .catch((e: { response?: string }) => e.response);
    expect(anonymous).toMatch(/^530 5\.7\.0/);

    const forged = await transport("submission", {
      requireTLS: true,
      auth: { user: "alice@example.test", pass: "alice-password" },
    })
      .sendMail({
        envelope: { from: "alice@example.test", to: ["bob@example.test"] },
        raw: message("forged", "ceo@bank.test", "bob@example.test"),
      })
      .catch((e: { response?: string }) => e.response);
    expect(forged).toMatch(/^553 5\.7\.1/);
  });

  test("STARTTLS injection: a command pipelined with STARTTLS is not executed after the handshake", async () => {
    const client = await LineClient.connect(server.ports.smtp!);
    await client.reply();
    await client.line("EHLO injector.test");
    await client.reply();
    await client.send("STARTTLS\r\nRSET\r\n");
    expect((await client.reply())[0]).toMatch(/^220 2\.0\.0/);
    await client.startTls();
    // Had the RSET survived, its 250 would arrive before the NOOP's reply.
    await client.line("NOOP");
    expect(await client.reply()).toEqual(["250 2.0.0 OK"]);
    await client.line("QUIT");
    client.close();
  });

  test("bare LF endings in DATA are refused and never split the message", async () => {
    const client = await LineClient.connect(server.ports.smtp!);
    await client.reply();
    await client.send("EHLO smuggler.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
    for (let i = 0; i < 4; i++) await client.reply();
    await client.send(
      "Subject: smuggle\r\n\r\nx\n.\nMAIL FROM:<evil@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nforged\r\n.\r\n",
    );
    expect((await client.reply())[0]).toMatch(/^550 5\.6\.0/);
    await client.line("QUIT");
    expect((await client.reply())[0]).toMatch(/^221/);
    expect((await readInbox(dataDir, "bob@example.test")).some((m) => m.raw.includes("forged"))).toBe(false);
  });

  test("NUL in message data is refused with 550 5.6.0 (limits.rejectNul, on by default) and not relayed", async () => {
    const client = await LineClient.connect(server.ports.smtp!);
    await client.reply();
    await client.send("EHLO nul.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n");
    for (let i = 0; i < 4; i++) await client.reply();
    await client.send("Subject: nul\r\n\r\nbefore\r\n\0.\r\nafter-nul\r\n.\r\n");
    expect((await client.reply())[0]).toMatch(/^550 5\.6\.0/);
    await client.line("QUIT");
    expect((await client.reply())[0]).toMatch(/^221/);
    expect((await readInbox(dataDir, "bob@example.test")).some((m) => m.raw.includes("after-nul"))).toBe(false);
  });

  test("a bare-LF dot after a line over the size limit does not end DATA either (found by test/fuzz)", async () => {
    const client = await LineClient.connect(server.ports.smtp!);
    await client.reply();
    await client.send("EHLO smuggler.test\r\nMAIL FROM:<a@remote.test>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n");
    for (let i = 0; i < 4; i++) await client.reply();
    // One line longer than limits.messageSize, ended by a bare LF, then a dot and commands.
    await client.send(
      `Subject: big\r\n\r\n${
        "x".repeat(200_001)
      }\n.\r\nRSET\r\nMAIL FROM:<evil@remote.test>\r\nRCPT TO:<bob@example.test>\r\n`,
    );
    await client.send("DATA\r\nforged\r\n.\r\n");
    // The whole of it was one message: too big, and nothing after it ran as a command.
    expect((await client.reply())[0]).toMatch(/^552 5\.3\.4/);
    await client.line("QUIT");
    expect((await client.reply())[0]).toMatch(/^221/);
    expect((await readInbox(dataDir, "bob@example.test")).some((m) => m.raw.includes("forged"))).toBe(false);
  });
});
