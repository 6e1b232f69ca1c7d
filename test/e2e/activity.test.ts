/**
 * The recent activity (issue 22) after real traffic, with `serve --workers 2` (a primary and a worker that bind the
 * same ports; the kernel gives each connection to one of them): messages accepted for a local account, a refused
 * recipient and a delivery to the relay are all in the primary's `GET /api/v1/activity`, the worker's included.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { listen, type Listener } from "../../src/net/listener.ts";
import type { ActivityEvent } from "../../src/util/activity.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";

const ADMIN_TOKEN = "activity-admin-token-0123456789";
let mail: MailServer;
let relay: Listener;
const remote = new RecordingBackend();

beforeAll(async () => {
  relay = await listen(await remoteMxOptions(remote));
  mail = await startMailServer({
    waitFor: ["smtp", "submission", "http"],
    users: { "rita@example.test": "rita-password" },
    args: ["--workers", "2"],
    config: {
      api: { adminToken: ADMIN_TOKEN },
      delivery: { relayHost: `127.0.0.1:${relay.address().port}`, retryDelay: 1 },
      policy: { rateLimits: { messagesPerIpPerHour: 1000, messagesPerAccountPerHour: 1000 } },
    },
  });
}, 60_000);
afterAll(async () => {
  await mail?.stop();
  await relay?.close(0);
});

async function activity(query = ""): Promise<ActivityEvent[]> {
  const response = await fetch(`http://127.0.0.1:${mail.server.ports.http}/api/v1/activity${query}`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  expect(response.status).toBe(200);
  return await response.json() as ActivityEvent[];
}

/** Asks until `ok` holds (a worker's events arrive with its next snapshot, within 5 s). */
async function activityUntil(what: string, ok: (events: ActivityEvent[]) => boolean): Promise<ActivityEvent[]> {
  const end = Date.now() + 20_000;
  let events: ActivityEvent[] = [];
  while (Date.now() < end) {
    events = await activity();
    if (ok(events)) return events;
    await Bun.sleep(250);
  }
  throw new Error(`timed out waiting for ${what}:\n${JSON.stringify(events, null, 1)}`);
}

const smtp = () =>
  nodemailer.createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" });

describe(`recent activity with workers on ${runtime()}`, () => {
  test("accepted, refused and delivered mail, from the primary and the worker", async () => {
    // One connection a message, until the kernel has given one to the worker (its events carry its pid).
    const primary = mail.server.proc.pid;
    const sent: string[] = [];
    for (let i = 0; i < 30; i++) {
      const subject = `local ${i}`;
      await smtp().sendMail({
        envelope: { from: `x${i}@remote.test`, to: ["rita@example.test"] },
        raw: `From: x${i}@remote.test\r\nSubject: ${subject}\r\n\r\nhello\r\n`,
      });
      sent.push(`<x${i}@remote.test>`);
      if (i >= 3 && (await activity("?kind=accepted")).some((e) => e.pid !== primary)) break;
      if (i >= 3) await Bun.sleep(500);
    }
    await expect(
      smtp().sendMail({
        envelope: { from: "y@remote.test", to: ["nobody@example.test"] },
        raw: "Subject: x\r\n\r\nx\r\n",
      }),
    ).rejects.toThrow();
    await nodemailer.createTransport({
      host: "127.0.0.1",
      port: mail.server.ports.submission,
      requireTLS: true,
      name: "client.test",
      tls: { rejectUnauthorized: false },
      auth: { user: "rita@example.test", pass: "rita-password" },
    }).sendMail({
      envelope: { from: "rita@example.test", to: ["far@remote.test"] },
      raw: "From: rita@example.test\r\nTo: far@remote.test\r\nSubject: out\r\n\r\nbye\r\n",
    });

    const events = await activityUntil(
      "the refusal, the delivery and every accepted message",
      (list) =>
        list.some((e) => e.kind === "refusal" && e.to === "<nobody@example.test>") &&
        list.some((e) => e.kind === "delivery" && e.to === "<far@remote.test>" && e.result.startsWith("sent")) &&
        sent.every((from) => list.some((e) => e.kind === "accepted" && e.from === from)),
    );
    const local = events.find((e) => e.kind === "accepted" && e.from === sent[0])!;
    expect(local.to).toBe("<rita@example.test>");
    // The RCPT refusal; a client that sends DATA anyway also gets a 554 "No valid recipients", a refusal of its own.
    const refusal = events.find((e) => e.kind === "refusal" && e.to === "<nobody@example.test>")!;
    expect(refusal.result).toContain("5.1.1");
    const delivery = events.find((e) => e.kind === "delivery")!;
    expect(delivery.queueId).toBeGreaterThan(0);
    expect(delivery.result).toMatch(/^sent 2\.\d\.\d via /);
    expect(remote.received.map((r) => r.transaction.sender)).toContain("rita@example.test");
    // The worker's events too, and all newest first.
    expect(events.some((e) => e.pid !== primary)).toBe(true);
    expect(events.map((e) => e.time)).toEqual(events.map((e) => e.time).sort().reverse());

    // The filter, and a bad query as a problem document.
    expect((await activity("?kind=refusal")).every((e) => e.kind === "refusal")).toBe(true);
    const bad = await fetch(`http://127.0.0.1:${mail.server.ports.http}/api/v1/activity?kind=nope`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("content-type")).toBe("application/problem+json");
  }, 90_000);
});
