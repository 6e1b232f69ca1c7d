/**
 * Outbound delivery end to end: `postern serve` (on the runtime named by POSTERN_TEST_RUNTIME)
 * delivers submissions to a remote MX found through a local DNS server. The remote MX is
 * Postern's own SMTP server code in this process, with a backend that records what arrives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { createSecureContext, createSelfSigned } from "../../src/net/certificate.ts";
import { type Listener, listen } from "../../src/net/listener.ts";
import type { DeliveryResult, MailTransaction, RecipientVerdict, SmtpBackend } from "../../src/smtp/backend.ts";
import { smtpHandler } from "../../src/smtp/server.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";

/** The remote side: accepts everyone but bad@ (550) and slow@ (451 the first time). */
class RemoteMx implements SmtpBackend {
  received: Array<{ transaction: MailTransaction; content: string }> = [];
  #slowSeen = false;
  async authenticate() {
    return null;
  }
  async mayUseSender() {
    return true;
  }
  async checkRecipient(address: string): Promise<RecipientVerdict> {
    if (address.startsWith("bad@")) return "unknown";
    if (address.startsWith("slow@") && !this.#slowSeen) {
      this.#slowSeen = true;
      return "tempfail";
    }
    return "accept";
  }
  async deliver(transaction: MailTransaction, content: Uint8Array): Promise<DeliveryResult> {
    this.received.push({ transaction, content: new TextDecoder().decode(content) });
    return { ok: true };
  }
}

const remote = new RemoteMx();
let mx: Listener;
let mail: MailServer;

beforeAll(async () => {
  mx = await listen({
    name: "remote-mx",
    host: "127.0.0.1",
    port: 0,
    tls: "none",
    secureContext: createSecureContext(await createSelfSigned("mx.remote.test")),
    maxConnectionsPerIp: 50,
    idleTimeoutMs: 10_000,
    handler: smtpHandler(
      { hostname: "mx.remote.test", role: "mx", maxMessageSize: 1_000_000, maxRecipients: 100, maxErrors: 20, maxCommands: 1000, maxAuthFailures: 3, allowPlaintextAuth: false, maxLineLength: 4096, commandTimeoutMs: 10_000, dataTimeoutMs: 10_000 },
      remote,
    ),
  });
  mail = await startMailServer({
    waitFor: ["smtp", "submission"],
    users: { "alice@example.test": "alice-password" },
    config: { delivery: { mxPort: mx.address().port, retryDelay: 1 } },
  });
  mail.dns.add("remote.test", { type: "MX", priority: 10, exchange: "mx.remote.test" });
  mail.dns.add("mx.remote.test", { type: "A", address: "127.0.0.1" });
  mail.dns.add("nomx.test", { type: "MX", priority: 0, exchange: "" });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
});

function submit(to: string[], subject: string) {
  return nodemailer
    .createTransport({
      host: "127.0.0.1", port: mail.server.ports.submission, requireTLS: true, name: "client.test",
      tls: { rejectUnauthorized: false }, auth: { user: "alice@example.test", pass: "alice-password" },
    })
    .sendMail({ envelope: { from: "alice@example.test", to }, raw: `From: alice@example.test\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\n\r\nhello\r\n` });
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

describe(`outbound delivery on ${runtime()}`, () => {
  test("a submission reaches the remote MX found through DNS, with the envelope kept", async () => {
    await submit(["friend@remote.test"], "to the world");
    const got = await until("the remote MX to receive it", () => remote.received.find((r) => r.content.includes("Subject: to the world")));
    expect(got.transaction.sender).toBe("alice@example.test");
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["friend@remote.test"]);
    expect(got.content).toMatch(/^Received: from .*\r\n\tby mx\.remote\.test/);
    expect(got.content).toContain("by mx.postern.test (Postern) with ESMTPSA");
  });

  test("a 5xx from the remote MX bounces a DSN into the sender's INBOX at once", async () => {
    await submit(["bad@remote.test"], "will bounce");
    const dsn = await until("the DSN", async () => (await readInbox(mail.dataDir, "alice@example.test")).find((m) => m.raw.includes("Undelivered Mail Returned to Sender")));
    expect(dsn.raw).toContain("Content-Type: multipart/report; report-type=delivery-status;");
    expect(dsn.raw).toContain("Final-Recipient: rfc822; bad@remote.test");
    expect(dsn.raw).toContain("Action: failed");
    expect(dsn.raw).toContain("Status: 5.1.1");
    expect(dsn.raw).toContain("Remote-MTA: dns; mx.remote.test");
    expect(dsn.raw).toContain("Subject: will bounce");
  });

  test("a 4xx is retried and then delivered", async () => {
    await submit(["slow@remote.test"], "try again");
    const got = await until("the retried delivery", () => remote.received.find((r) => r.content.includes("Subject: try again")), 15_000);
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["slow@remote.test"]);
  });

  test("a domain with a null MX fails at once with 5.1.10", async () => {
    await submit(["someone@nomx.test"], "nowhere to go");
    const dsn = await until("the null-MX DSN", async () => (await readInbox(mail.dataDir, "alice@example.test")).find((m) => m.raw.includes("someone@nomx.test") && m.raw.includes("Action: failed")));
    expect(dsn.raw).toContain("Status: 5.1.10");
  });
});
