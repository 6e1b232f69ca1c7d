/**
 * `postern queue` and /api/v1/queue on a deferred message (issue 20, item 6): the relay is a
 * loopback port where nothing listens, so every attempt defers; list, show, hold (no attempts
 * while held), release, delete and retry, from the CLI and over REST, until a relay comes up
 * and the message leaves the queue delivered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { listen, type Listener } from "../../src/net/listener.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { freePortPair } from "../helpers/ports.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";
import { until } from "../helpers/until.ts";

const TOKEN = "queue-admin-token-0123456789";

interface Recipient {
  recipient: string;
  status: string;
  attempts: number;
  lastReply: string | null;
}
interface Queued {
  id: number;
  sender: string;
  size: number;
  recipients: Recipient[];
}

let mail: MailServer;
let relayPort: number;
let relay: Listener | undefined;
const backend = new RecordingBackend();

beforeAll(async () => {
  [relayPort] = await freePortPair();
  mail = await startMailServer({
    waitFor: ["submission", "http"],
    users: { "alice@example.test": "alice-password" },
    config: {
      api: { adminToken: TOKEN },
      delivery: { relayHost: `127.0.0.1:${relayPort}`, retryDelay: 1 },
    },
  });
}, 60_000);
afterAll(async () => {
  await mail?.stop();
  await relay?.close(0);
});

const api = (method: string, path: string) =>
  fetch(`http://127.0.0.1:${mail.server.ports.http}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}` },
  });

async function cli(...args: string[]) {
  return await mail.server.cli(["queue", ...args]);
}

async function list(): Promise<Queued[]> {
  const result = await cli("list", "--json");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as Queued[];
}

function submit(to: string, subject: string) {
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
      envelope: { from: "alice@example.test", to: [to] },
      raw: `From: alice@example.test\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nhello\r\n`,
    });
}

/** The queued message for `to` once it has been tried and deferred. */
function deferred(to: string): Promise<Queued> {
  return until(
    `a deferral for ${to}`,
    async () =>
      (await list()).find((m) =>
        m.recipients.some((r) => r.recipient === to && r.status === "deferred" && r.attempts > 0)
      ),
  );
}

describe(`postern queue on ${runtime()}`, () => {
  test("list and show a deferred message", async () => {
    await submit("first@remote.test", "first");
    const message = await deferred("first@remote.test");
    expect(message.sender).toBe("alice@example.test");
    expect(message.size).toBeGreaterThan(50);
    expect(message.recipients[0]!.lastReply).toBeTruthy();

    const text = await cli("list");
    expect(text.stdout).toContain(`${message.id}\t${message.size}\t`);
    expect(text.stdout).toMatch(/\t<first@remote\.test>\tdeferred\tattempts=\d+\tnext=\S+\t\(.+\)/);
    expect(text.stdout).toMatch(/-- 1 Kbytes in 1 message$/m);
    const shown = await cli("show", String(message.id));
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("<first@remote.test>\tdeferred");
    const rest = (await (await api("GET", `/api/v1/queue/${message.id}`)).json()) as Queued;
    expect(rest.recipients[0]!.status).toBe("deferred");
    expect(rest.size).toBe(message.size);
  });

  test("a held message is not tried until it is released", async () => {
    const [message] = await list();
    const held = await cli("hold", String(message!.id));
    expect(held.stdout).toContain("1 recipients held");
    const before = (await list())[0]!.recipients[0]!;
    expect(before.status).toBe("held");
    await Bun.sleep(2500); // retryDelay is 1 s: several attempts would have run
    const after = (await (await api("GET", `/api/v1/queue/${message!.id}`)).json()) as Queued;
    expect(after.recipients[0]).toMatchObject({ status: "held", attempts: before.attempts });

    const released = await api("POST", `/api/v1/queue/${message!.id}/release`);
    expect(await released.json()).toEqual({ recipients: 1 });
    await until("an attempt after the release", async () => {
      const r = (await list())[0]!.recipients[0]!;
      return r.attempts > before.attempts && r.status === "deferred" ? r : undefined;
    });
    expect(await (await api("POST", `/api/v1/queue/${message!.id}/hold`)).json()).toEqual({ recipients: 1 });
    expect((await list())[0]!.recipients[0]!.status).toBe("held");
  });

  test("delete drops a message; unknown ids and bad arguments are refused", async () => {
    await submit("second@remote.test", "second");
    const second = await deferred("second@remote.test");
    expect((await cli("delete", String(second.id))).code).toBe(0);
    expect((await list()).map((m) => m.id)).not.toContain(second.id);
    expect((await api("GET", `/api/v1/queue/${second.id}`)).status).toBe(404);
    expect((await api("DELETE", `/api/v1/queue/${second.id}`)).status).toBe(404);
    const gone = await cli("show", String(second.id));
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain(`no queued message ${second.id}`);
    expect((await cli("show", "abc")).code).toBe(2);
    expect((await cli("retry")).code).toBe(2);
    expect((await cli("frobnicate")).code).toBe(2);
  });

  test("release and retry deliver once the relay is up, and the queue empties", async () => {
    const [message] = await list();
    relay = await listen({ ...(await remoteMxOptions(backend)), port: relayPort });
    expect((await cli("retry", "--all")).stdout).toContain("0 recipients due now"); // still held
    expect((await cli("release", String(message!.id))).stdout).toContain("1 recipients released");
    expect((await api("POST", "/api/v1/queue/retry")).status).toBe(200);
    await until("delivery to the relay", async () => backend.received.length ? true : undefined);
    expect(backend.received[0]!.transaction.recipients.map((r) => r.address)).toEqual(["first@remote.test"]);
    await until("an empty queue", async () => (await list()).length === 0 ? true : undefined);
    expect((await cli("list")).stdout.trim()).toBe("Mail queue is empty");
  });
});
