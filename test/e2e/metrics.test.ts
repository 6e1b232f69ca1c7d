/**
 * /metrics after real traffic (issue 20, item 5), with `serve` running a primary and a worker
 * (whichever takes a connection, the primary's /metrics adds up both): messages received and
 * refused per listener and code, login results, deliveries by status, the queue's size and
 * oldest age, SMTP transaction and delivery time histograms; the exposition parses. Then policy
 * verdicts and check times, JMAP requests and the storage used.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { listen, type Listener } from "../../src/net/listener.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { freePortPair } from "../helpers/ports.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";

const ADMIN_TOKEN = "metrics-admin-token-0123456789";
let mail: MailServer;
let relayPort: number;
let relay: Listener | undefined;

beforeAll(async () => {
  [relayPort] = await freePortPair();
  mail = await startMailServer({
    waitFor: ["smtp", "submission", "http"],
    users: { "rita@example.test": "rita-password" },
    config: {
      // With an admin token, /metrics asks for it by default (metrics.requireToken).
      api: { adminToken: ADMIN_TOKEN },
      delivery: { relayHost: `127.0.0.1:${relayPort}`, retryDelay: 1 },
      policy: { rateLimits: { messagesPerIpPerHour: 1000, messagesPerAccountPerHour: 1000 } },
    },
  });
}, 60_000);
afterAll(async () => {
  await mail?.stop();
  await relay?.close(0);
});

/** The value of one series, or 0 when it is not there yet. */
function value(text: string, series: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

/** A Prometheus scrape: `authorization: { type: Bearer, credentials: <token> }` in its scrape_config. */
async function scrape(): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${mail.server.ports.http}/metrics`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return await response.text();
}

/** Scrapes until `ok` holds (a worker's counters arrive within a few seconds). */
async function scrapeUntil(what: string, ok: (text: string) => boolean, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  let text = "";
  while (Date.now() < end) {
    text = await scrape();
    if (ok(text)) return text;
    await Bun.sleep(250);
  }
  throw new Error(`timed out waiting for ${what}:\n${text}`);
}

describe(`metrics on ${runtime()}`, () => {
  test("behind the admin token: 401 problem document without it or with a wrong one", async () => {
    const url = `http://127.0.0.1:${mail.server.ports.http}/metrics`;
    const tries: Record<string, string>[] = [{}, { authorization: "Bearer wrong-token-0123456789" }, {
      authorization: "Basic eDp5",
    }];
    for (const headers of tries) {
      const response = await fetch(url, { headers });
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.headers.get("www-authenticate")).toContain("Bearer");
      expect(await response.json()).toMatchObject({ type: "/problems/unauthorized", status: 401 });
    }
    expect(await scrape()).toContain("# TYPE postern_connections_total counter");
  });

  test("after a received message, a refused recipient, logins and a delivery", async () => {
    const smtp = nodemailer.createTransport({
      host: "127.0.0.1",
      port: mail.server.ports.smtp,
      ignoreTLS: true,
      name: "client.test",
    });
    await smtp.sendMail({
      envelope: { from: "x@remote.test", to: ["rita@example.test"] },
      raw: "From: x@remote.test\r\nSubject: counted\r\n\r\nhello\r\n",
    });
    await expect(
      smtp.sendMail({
        envelope: { from: "x@remote.test", to: ["nobody@example.test"] },
        raw: "Subject: x\r\n\r\nx\r\n",
      }),
    ).rejects.toThrow();
    const submission = (pass: string) =>
      nodemailer.createTransport({
        host: "127.0.0.1",
        port: mail.server.ports.submission,
        requireTLS: true,
        name: "client.test",
        tls: { rejectUnauthorized: false },
        auth: { user: "rita@example.test", pass },
      });
    await expect(submission("wrong").verify()).rejects.toThrow();
    await submission("rita-password").sendMail({
      envelope: { from: "rita@example.test", to: ["far@remote.test"] },
      raw: "From: rita@example.test\r\nTo: far@remote.test\r\nSubject: out\r\n\r\nbye\r\n",
    });

    // The relay is down: the message waits in the queue, deferred.
    const waiting = await scrapeUntil(
      "a deferral",
      (t) => value(t, 'postern_deliveries_total{status="deferred"}') >= 1 && value(t, "postern_queue_messages") === 1,
    );
    expect(value(waiting, "postern_queue_oldest_age_seconds")).toBeGreaterThan(0);

    relay = await listen({ ...(await remoteMxOptions(new RecordingBackend())), port: relayPort });
    const text = await scrapeUntil(
      "every count",
      (t) =>
        value(t, 'postern_deliveries_total{status="sent"}') === 1 &&
        value(t, 'postern_messages_received_total{listener="smtp"}') === 1 &&
        value(t, 'postern_messages_received_total{listener="submission"}') === 1 &&
        value(t, 'postern_auth_attempts_total{result="failed"}') === 1 &&
        value(t, 'postern_auth_attempts_total{result="ok"}') === 1,
    );
    expect(value(text, 'postern_smtp_refused_total{listener="smtp",stage="rcpt",code="5.1.1"}')).toBe(1);
    expect(value(text, 'postern_sessions_total{listener="smtp"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'postern_sessions_total{listener="submission"}')).toBeGreaterThanOrEqual(2);
    expect(value(text, "postern_queue_messages")).toBe(0);
    expect(value(text, "postern_queue_oldest_age_seconds")).toBe(0);
    expect(value(text, 'postern_delivery_seconds_count{status="sent"}')).toBe(1);
    expect(value(text, 'postern_delivery_seconds_bucket{status="sent",le="+Inf"}')).toBe(1);
    expect(value(text, 'postern_delivery_seconds_sum{status="sent"}')).toBeGreaterThan(0);
    expect(value(text, 'postern_smtp_transaction_seconds_count{listener="smtp"}')).toBeGreaterThanOrEqual(1);
    expect(value(text, 'postern_smtp_transaction_seconds_bucket{listener="smtp",le="+Inf"}'))
      .toBe(value(text, 'postern_smtp_transaction_seconds_count{listener="smtp"}'));

    // The exposition (format 0.0.4): every series has a TYPE, every sample line parses, buckets grow.
    const types = new Map<string, string>();
    for (const line of text.trimEnd().split("\n")) {
      const typed = /^# TYPE (\w+) (counter|gauge|histogram)$/.exec(line);
      if (typed) types.set(typed[1]!, typed[2]!);
      if (line.startsWith("#")) continue;
      const m = /^(\w+)(\{(?:\w+="(?:[^"\\]|\\.)*",?)*\})? (-?[\d.e+]+|\+Inf|NaN)$/.exec(line);
      expect(m, line).not.toBeNull();
      const base = m![1]!.replace(/_(bucket|sum|count)$/, "");
      expect(types.has(m![1]!) || types.get(base) === "histogram", line).toBe(true);
    }
    const buckets = text.split("\n").filter((l) => l.startsWith('postern_delivery_seconds_bucket{status="sent"'))
      .map((l) => Number(l.split(" ")[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
  }, 60_000);

  test("policy verdicts and check times, JMAP requests, storage used", async () => {
    // Both messages of the first test went through the rate-limit check (data stage): mx and submission.
    const text = await scrapeUntil(
      "policy verdicts",
      (t) => value(t, 'postern_policy_verdicts_total{check="rate-limit",stage="data",action="accept"}') >= 2,
    );
    expect(value(text, 'postern_policy_check_seconds_count{check="rate-limit"}')).toBeGreaterThanOrEqual(2);
    expect(value(text, 'postern_policy_check_seconds_bucket{check="rate-limit",le="+Inf"}'))
      .toBe(value(text, 'postern_policy_check_seconds_count{check="rate-limit"}'));
    expect(text).toContain("# TYPE postern_policy_check_failures_total counter");

    // The stored message ("counted", in rita's INBOX) is in the mail bytes; the database holds more.
    const mailBytes = value(text, "postern_storage_mail_bytes");
    expect(mailBytes).toBeGreaterThan(40);
    expect(value(text, "postern_storage_database_bytes")).toBeGreaterThan(mailBytes);

    const base = `http://127.0.0.1:${mail.server.ports.http}`;
    const authorization = `Basic ${btoa("rita@example.test:rita-password")}`;
    const session = await fetch(`${base}/jmap/session`, { headers: { authorization } });
    expect(session.status).toBe(200);
    const api = await fetch(`${base}/jmap/api`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({ using: ["urn:ietf:params:jmap:core"], methodCalls: [["Core/echo", { hi: 1 }, "0"]] }),
    });
    expect(api.status).toBe(200);
    await api.text();
    const unauthenticated = await fetch(`${base}/jmap/session`);
    await unauthenticated.text();
    const after = await scrape();
    expect(value(after, 'postern_jmap_requests_total{endpoint="session",status="200"}')).toBe(1);
    expect(value(after, 'postern_jmap_requests_total{endpoint="api",status="200"}')).toBe(1);
    expect(value(after, `postern_jmap_requests_total{endpoint="session",status="${unauthenticated.status}"}`))
      .toBeGreaterThanOrEqual(1);
  }, 60_000);
});
