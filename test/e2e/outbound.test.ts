/**
 * Outbound delivery end to end: `postern serve` (on the runtime named by POSTERN_TEST_RUNTIME)
 * delivers submissions to a remote MX found through a local DNS server. The remote MX is
 * Postern's own SMTP server code in this process, with a backend that records what arrives.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { listen, type Listener, type ListenOptions } from "../../src/net/listener.ts";
import type { DeliveryResult, MailTransaction, RecipientVerdict, SmtpBackend } from "../../src/smtp/backend.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";
import { remoteMxOptions } from "../helpers/remote-mx.ts";
import { until } from "../helpers/until.ts";

/** The remote side: accepts everyone but bad@ (550), slow@ (451 the first time) and late@ (451 twice). */
class RemoteMx implements SmtpBackend {
  received: Array<{ transaction: MailTransaction; content: string }> = [];
  #slowSeen = false;
  #lateRefusals = 0;
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
    if (address.startsWith("late@") && this.#lateRefusals < 2) {
      this.#lateRefusals++;
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

/** The webhook endpoint: HTTPS with its own certificate (trusted through webhooks.caFile); 500 the first time. */
const hooks: Array<{ signature: string; body: string }> = [];
let hookServer: HttpsServer;
let hookCalls = 0;
async function startWebhookEndpoint(dir: string): Promise<{ port: number; caFile: string }> {
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "01",
    name: "CN=127.0.0.1",
    keys,
    signingAlgorithm: alg,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "ip", value: "127.0.0.1" }])],
  });
  const key = `-----BEGIN PRIVATE KEY-----\n${
    Buffer.from(await crypto.subtle.exportKey("pkcs8", keys.privateKey)).toString("base64")
  }\n-----END PRIVATE KEY-----\n`;
  const caFile = join(dir, "webhook-ca.pem");
  writeFileSync(caFile, cert.toString("pem"));
  hookServer = createHttpsServer({ cert: cert.toString("pem"), key }, (req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      hookCalls++;
      if (hookCalls === 1) return res.writeHead(500).end();
      hooks.push({ signature: String(req.headers["postern-signature"]), body });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
  return { port: (hookServer.address() as { port: number }).port, caFile };
}
let mx: Listener;
let mxOptions: ListenOptions;
let mail: MailServer;

beforeAll(async () => {
  mxOptions = await remoteMxOptions(remote);
  mx = await listen(mxOptions);
  const hookDir = mkdtempSync(join(tmpdir(), "postern-hook-"));
  const hook = await startWebhookEndpoint(hookDir);
  mail = await startMailServer({
    waitFor: ["smtp", "submission"],
    users: { "alice@example.test": "alice-password" },
    config: {
      delivery: { mxPort: mx.address().port, retryDelay: 1, delayWarning: 1 },
      srs: { secret: "srs-secret-for-tests" },
      webhooks: { secret: "webhook-secret-for-tests", caFile: hook.caFile },
      // The webhook endpoint is on loopback (issue 18: private targets need the switch).
      outbound: { allowPrivateTargets: ["127.0.0.1", "::1"] },
    },
    setup: [
      ["domain", "add", "fwd.test", "--forward"],
      ["alias", "add", "anything@fwd.test", "friend@remote.test"],
      ["alias", "add", "hook@fwd.test", `https://127.0.0.1:${hook.port}/incoming`],
      ["alias", "add", "@fwd.test", "catchall@remote.test"],
      ["domain", "add", "strict.test", "--forward"],
      ["alias", "add", "list@strict.test", "member1@remote.test", "member2@remote.test"],
    ],
  });
  mail.dns.add("remote.test", { type: "MX", priority: 10, exchange: "mx.remote.test" });
  mail.dns.add("mx.remote.test", { type: "A", address: "127.0.0.1" });
  mail.dns.add("nomx.test", { type: "MX", priority: 0, exchange: "" });
  mail.dns.add("origin.test", { type: "MX", priority: 10, exchange: "mx.remote.test" });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
  hookServer?.close();
});

function submit(to: string[], subject: string) {
  return nodemailer
    .createTransport({
      host: "127.0.0.1",
      port: mail.server.ports.submission,
      requireTLS: true,
      name: "client.test",
      tls: { rejectUnauthorized: false },
      auth: { user: "alice@example.test", pass: "alice-password" },
    })
    .sendMail({
      envelope: { from: "alice@example.test", to },
      raw: `From: alice@example.test\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\n\r\nhello\r\n`,
    });
}

/** Mail from the outside world to our MX (port 25 role). */
function inbound(to: string[], subject: string, from = "sender@origin.test") {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "mx.origin.test" })
    .sendMail({
      envelope: { from, to },
      raw: `From: ${from || "MAILER-DAEMON@remote.test"}\r\nTo: ${
        to.join(", ")
      }\r\nSubject: ${subject}\r\n\r\nforward me\r\n`,
    });
}

describe(`forwarding on ${runtime()}`, () => {
  test("an alias of a forward-only domain forwards with an SRS0 envelope sender", async () => {
    await inbound(["anything@fwd.test"], "forward exact");
    const got = await until(
      "the forwarded copy",
      () => remote.received.find((r) => r.content.includes("Subject: forward exact")),
    );
    expect(got.transaction.sender).toMatch(/^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=origin\.test=sender@mx\.postern\.test$/);
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["friend@remote.test"]);
    expect(got.content).toContain("Authentication-Results: mx.postern.test;");
  });

  test("catch-all, plus-addressing and an alias with several targets", async () => {
    await inbound(["whoever@fwd.test"], "forward catch-all");
    const caught = await until(
      "the catch-all copy",
      () => remote.received.find((r) => r.content.includes("Subject: forward catch-all")),
    );
    expect(caught.transaction.recipients.map((r) => r.address)).toEqual(["catchall@remote.test"]);
    await inbound(["list+news@strict.test"], "forward plus");
    const plus = await until(
      "the list copy",
      () => remote.received.find((r) => r.content.includes("Subject: forward plus")),
    );
    expect(plus.transaction.recipients.map((r) => r.address).sort()).toEqual([
      "member1@remote.test",
      "member2@remote.test",
    ]);
  });

  test("a message that has passed more than 50 hops is refused as a loop", async () => {
    const trace = Array.from(
      { length: 50 },
      (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; Mon, 23 Nov 2026 10:00:00 +0000\r\n`,
    ).join("");
    const error = await nodemailer
      .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "mx.origin.test" })
      .sendMail({
        envelope: { from: "sender@origin.test", to: ["anything@fwd.test"] },
        raw: `${trace}Subject: looping\r\n\r\nround and round\r\n`,
      })
      .catch((e: { response?: string }) => e.response);
    expect(error).toMatch(/^554 5\.4\.6 Too many hops \(51 Received: headers\)/);
    expect(remote.received.some((r) => r.content.includes("Subject: looping"))).toBe(false);
  });

  test("a webhook target gets the message as signed JSON, retried after a 500", async () => {
    await inbound(["hook@fwd.test"], "to the webhook");
    const call = await until("the webhook call", () => hooks.find((h) => h.body.includes("to the webhook")), 15_000);
    const [, t, v1] = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(call.signature)!;
    expect(v1).toBe(createHmac("sha256", "webhook-secret-for-tests").update(`${t}.${call.body}`).digest("hex"));
    const payload = JSON.parse(call.body) as {
      envelope: { from: string; to: string; srsFrom?: string };
      message: { subject: string; text: string };
      raw: string;
    };
    // The original sender, with the SRS address a forwarded copy would carry beside it (issue 19, bug 2).
    expect(payload.envelope).toMatchObject({ to: "hook@fwd.test", from: "sender@origin.test" });
    expect(payload.envelope.srsFrom).toMatch(/^SRS0=[^=]{4}=[A-Z2-7]{2}=origin\.test=sender@mx\.postern\.test$/);
    expect(payload.message.subject).toBe("to the webhook");
    expect(payload.message.text).toContain("forward me");
    expect(Buffer.from(payload.raw, "base64").toString()).toContain("Subject: to the webhook");
    expect(hookCalls).toBeGreaterThanOrEqual(2);
  });

  test("forwarded mail carries our ARC seal, which verifies at the next hop", async () => {
    const generated = await mail.server.cli(["dkim", "generate", "postern.test", "--selector", "arc1"]);
    const m = /^(arc1\._domainkey\.postern\.test)\. IN TXT "([^"]+)"$/m.exec(generated.stdout)!;
    mail.dns.add(m[1]!, { type: "TXT", text: m[2]! });
    await inbound(["anything@fwd.test"], "sealed forward");
    const got = await until(
      "the sealed copy",
      () => remote.received.find((r) => r.content.includes("Subject: sealed forward")),
    );
    expect(got.content).toMatch(/ARC-Seal: i=1; a=rsa-sha256; t=\d+; cv=none;\s+d=postern\.test; s=arc1;/);
    expect(got.content).toContain("ARC-Authentication-Results: i=1; mx.postern.test;");
    const { authenticate } = await import("mailauth");
    const { createResolver } = await import("../../src/net/dns.ts");
    const result = await authenticate(Buffer.from(got.content), {
      ip: "127.0.0.1",
      helo: "mx.postern.test",
      sender: got.transaction.sender,
      mta: "mx.remote.test",
      resolver: createResolver([`127.0.0.1:${mail.dns.port}`]) as never,
    });
    expect((result.arc as { status: { result: string } }).status.result).toBe("pass");
    // The SRS sender is ours, so the forwarded copy is also DKIM-signed for our domain.
    expect(got.content).toMatch(/DKIM-Signature: [^]*d=postern\.test;/);
    expect(
      result.dkim.results.some((r: { status: { result: string }; signingDomain?: string }) =>
        r.status.result === "pass" && r.signingDomain === "postern.test"
      ),
    ).toBe(true);
  });

  test("an unknown address at a forward-only domain without catch-all is refused with 550 5.1.1", async () => {
    const error = await inbound(["nobody@strict.test"], "nowhere").catch((e: { response?: string }) => e.response);
    expect(error).toMatch(/^550 5\.1\.1/);
  });

  test("a bounce to our SRS address goes back to the original sender; a forged one is refused", async () => {
    const forwarded = await until(
      "a forwarded copy",
      () => remote.received.find((r) => r.transaction.sender.startsWith("SRS0=")),
    );
    await inbound([forwarded.transaction.sender], "bounce of a forward", "");
    const back = await until(
      "the bounce at the original sender",
      () => remote.received.find((r) => r.content.includes("Subject: bounce of a forward")),
    );
    expect(back.transaction.sender).toBe("");
    expect(back.transaction.recipients.map((r) => r.address)).toEqual(["sender@origin.test"]);
    const forged = forwarded.transaction.sender.replace(/^SRS0=..../, "SRS0=AAAA");
    const error = await inbound([forged], "forged bounce", "").catch((e: { response?: string }) => e.response);
    expect(error).toMatch(/^550 5\.7\.1/);
  });
});

describe(`outbound delivery on ${runtime()}`, () => {
  test("`postern dkim generate` makes a key; submissions then leave DKIM-signed and verify against its DNS record", async () => {
    const generated = await mail.server.cli(["dkim", "generate", "example.test", "--selector", "s2026"]);
    expect(generated.code).toBe(0);
    const m = /^(s2026\._domainkey\.example\.test)\. IN TXT "(v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+)"$/m.exec(
      generated.stdout,
    );
    expect(m).not.toBeNull();
    mail.dns.add(m![1]!, { type: "TXT", text: m![2]! });
    await submit(["signed@remote.test"], "signed mail");
    const got = await until(
      "the signed message",
      () => remote.received.find((r) => r.content.includes("Subject: signed mail")),
    );
    expect(got.content).toMatch(/DKIM-Signature: [^]*d=example\.test;[^]*s=s2026;/);
    const { authenticate } = await import("mailauth");
    const { createResolver } = await import("../../src/net/dns.ts");
    // What the remote MX stored starts with its own Received; DKIM covers the rest.
    const result = await authenticate(Buffer.from(got.content), {
      ip: "127.0.0.1",
      helo: "mx.postern.test",
      sender: "alice@example.test",
      mta: "mx.remote.test",
      resolver: createResolver([`127.0.0.1:${mail.dns.port}`]) as never,
    });
    expect(result.dkim.results.map((r: { status: { result: string } }) => r.status.result)).toEqual(["pass"]);
  });

  test("a submission reaches the remote MX found through DNS, with the envelope kept", async () => {
    await submit(["friend@remote.test"], "to the world");
    const got = await until(
      "the remote MX to receive it",
      () => remote.received.find((r) => r.content.includes("Subject: to the world")),
    );
    expect(got.transaction.sender).toBe("alice@example.test");
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["friend@remote.test"]);
    expect(got.content).toMatch(/^Received: from .*\r\n\tby mx\.remote\.test/);
    expect(got.content).toContain("by mx.postern.test (Postern) with ESMTPSA");
  });

  test("a 5xx from the remote MX bounces a DSN into the sender's INBOX at once", async () => {
    await submit(["bad@remote.test"], "will bounce");
    const dsn = await until(
      "the DSN",
      async () =>
        (await readInbox(mail.dataDir, "alice@example.test")).find((m) =>
          m.raw.includes("Undelivered Mail Returned to Sender")
        ),
    );
    expect(dsn.raw).toContain("Content-Type: multipart/report; report-type=delivery-status;");
    expect(dsn.raw).toContain("Final-Recipient: rfc822; bad@remote.test");
    expect(dsn.raw).toContain("Action: failed");
    expect(dsn.raw).toContain("Status: 5.1.1");
    expect(dsn.raw).toContain("Remote-MTA: dns; mx.remote.test");
    expect(dsn.raw).toContain("Subject: will bounce");
  });

  test("a 4xx is retried and then delivered", async () => {
    await submit(["slow@remote.test"], "try again");
    const got = await until(
      "the retried delivery",
      () => remote.received.find((r) => r.content.includes("Subject: try again")),
      15_000,
    );
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["slow@remote.test"]);
  });

  test("a recipient still deferred after delivery.delayWarning gets one delayed DSN, then the delivery", async () => {
    await submit(["late@remote.test"], "taking its time");
    const got = await until(
      "the late delivery",
      () => remote.received.find((r) => r.content.includes("Subject: taking its time")),
      20_000,
    );
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["late@remote.test"]);
    const notices = (await readInbox(mail.dataDir, "alice@example.test")).filter((m) =>
      m.raw.includes("late@remote.test") && m.raw.includes("Action: delayed")
    );
    // Deferred at once (too young to warn), deferred again after a second (warned), then sent.
    expect(notices.length).toBe(1);
    expect(notices[0]!.raw).toContain("Subject: Delayed Mail (still being retried)");
    expect(notices[0]!.raw).toContain("Status: 4.");
    expect(notices[0]!.raw).toMatch(/Will-Retry-Until: \w{3}, \d+ \w{3} \d{4}/);
    expect(notices[0]!.raw).toContain("Subject: taking its time");
  });

  test("a domain with a null MX fails at once with 5.1.10", async () => {
    await submit(["someone@nomx.test"], "nowhere to go");
    const dsn = await until(
      "the null-MX DSN",
      async () =>
        (await readInbox(mail.dataDir, "alice@example.test")).find((m) =>
          m.raw.includes("someone@nomx.test") && m.raw.includes("Action: failed")
        ),
    );
    expect(dsn.raw).toContain("Status: 5.1.10");
  });

  test("messages queued while the remote MX is down survive a restart and are delivered after it", async () => {
    const port = mx.address().port;
    await mx.close(0);
    await submit(["later@remote.test"], "survives a restart");
    await Bun.sleep(1500); // at least one failed attempt
    await mail.server.restart();
    mx = await listen({ ...mxOptions, port });
    const got = await until(
      "delivery after the restart",
      () => remote.received.find((r) => r.content.includes("Subject: survives a restart")),
      20_000,
    );
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["later@remote.test"]);
  });
});
