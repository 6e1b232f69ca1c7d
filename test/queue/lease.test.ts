/**
 * Queue claims across processes sharing one database (issue 15): a claim is a lease held by one
 * owner, claims never overlap, an expired lease is taken over, a late outcome from the old owner
 * is ignored, and a process killed mid-delivery delays its recipients by the lease only: another
 * process's QueueRunner then delivers the message, once.
 *
 * Two Store instances in one process cannot hold write transactions at the same time (the
 * embedded driver blocks the thread while it waits for the lock), so the concurrent claims come
 * from child processes (lease-child.ts), as they would from two `postern serve`.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Deliverer } from "../../src/deliver/deliverer.ts";
import { Directory } from "../../src/deliver/directory.ts";
import { summarize } from "../../src/mime/summary.ts";
import { listen, type Listener } from "../../src/net/listener.ts";
import { QueueRunner } from "../../src/queue/runner.ts";
import type { DeliveryResult, MailTransaction, RecipientVerdict, SmtpBackend } from "../../src/smtp/backend.ts";
import { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";
import { remoteMxOptions } from "../helpers/remote-mx.ts";

type Temp = Awaited<ReturnType<typeof openTempStore>>;
let temp: Temp;
let store: Store;
let other: Store;
let dbPath: string;
const children: Array<ReturnType<typeof Bun.spawn>> = [];

beforeEach(async () => {
  temp = await openTempStore();
  store = temp.store;
  dbPath = join(temp.path, "postern.db");
  other = await Store.open({ url: `file:${dbPath}` });
  await other.migrate();
});

afterEach(async () => {
  for (const c of children.splice(0)) {
    c.kill("SIGKILL");
    await c.exited;
  }
  other.close();
  temp.cleanup();
});

const encode = (s: string) => new TextEncoder().encode(s);

async function enqueue(target: Store, recipients: string[], subject = "queued"): Promise<number> {
  const raw = encode(
    `From: alice@example.test\r\nTo: ${recipients.join(", ")}\r\nSubject: ${subject}\r\n\r\nhello\r\n`,
  );
  const { queueIds } = await target.mail.deliver({
    raw,
    summary: summarize(raw),
    local: [],
    queue: [{ sender: "alice@example.test", recipients: recipients.map((address) => ({ address })) }],
  });
  return queueIds[0]!;
}

async function recipientRows(): Promise<Array<Record<string, unknown>>> {
  return await temp.sql(
    "SELECT id, status, attempts, last_reply, lease_owner, lease_until FROM queue_recipients ORDER BY id",
  );
}

/** A child process on the same database (lease-child.ts), with its stdout read line by line. */
function spawnChild(args: string[]) {
  const proc = Bun.spawn([process.execPath, join(import.meta.dirname, "lease-child.ts"), ...args], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "inherit",
  });
  children.push(proc);
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  return {
    proc,
    async line(): Promise<string> {
      for (;;) {
        const cut = buffer.indexOf("\n");
        if (cut >= 0) {
          const line = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 1);
          return line;
        }
        const { value, done } = await reader.read();
        if (done) throw new Error(`child exited (${await proc.exited}) before a line; had ${JSON.stringify(buffer)}`);
        buffer += value;
      }
    },
    go(): void {
      proc.stdin.write("go\n");
      proc.stdin.flush();
    },
  };
}

describe("claims between two stores on one database", () => {
  test("a claim leases due recipients to one owner; the other gets nothing until the lease ends", async () => {
    await enqueue(store, ["a@remote.test", "b@remote.test"]);
    const t = Date.now() + 1000;
    const mine = await store.queue.claim(store.instanceId, new Date(t), 1000);
    expect(mine.map((r) => r.recipient)).toEqual(["a@remote.test", "b@remote.test"]);
    expect(mine.every((r) => r.leaseOwner === store.instanceId && r.leaseUntil?.getTime() === t + 1000)).toBe(true);
    expect(store.instanceId).not.toBe(other.instanceId);

    expect(await other.queue.claim(other.instanceId, new Date(t + 500), 1000)).toEqual([]);
    expect(await other.queue.claim(other.instanceId, new Date(t + 1000), 1000)).toEqual([]);
    // Expired: taken over.
    const taken = await other.queue.claim(other.instanceId, new Date(t + 1001), 1000);
    expect(taken.map((r) => r.id)).toEqual(mine.map((r) => r.id));
    expect((await recipientRows()).map((r) => r.lease_owner)).toEqual([other.instanceId, other.instanceId]);
    // And now the first owner is the one that must wait.
    expect(await store.queue.claim(store.instanceId, new Date(t + 1500), 1000)).toEqual([]);
  });

  test("only due, pending recipients are claimed, oldest due first, at most `limit`", async () => {
    const queueId = await enqueue(store, ["a@remote.test", "b@remote.test", "c@remote.test"]);
    const t = Date.now() + 1000;
    const [first] = await store.queue.claim(store.instanceId, new Date(t), 60_000, 1);
    expect(first!.recipient).toBe("a@remote.test");
    // a: delivered; b: deferred for a minute; c: still unclaimed.
    const [b] = await store.queue.claim(store.instanceId, new Date(t), 60_000, 1);
    await store.queue.record(store.instanceId, queueId, [
      { recipientId: first!.id, status: "delivered", attempts: 1, lastReply: "250 ok", nextAttemptAt: new Date(t) },
      {
        recipientId: b!.id,
        status: "pending",
        attempts: 1,
        lastReply: "451 later",
        nextAttemptAt: new Date(t + 60_000),
      },
    ]);
    expect((await other.queue.claim(other.instanceId, new Date(t + 1), 60_000)).map((r) => r.recipient)).toEqual([
      "c@remote.test",
    ]);
    expect((await store.queue.claim(store.instanceId, new Date(t + 60_000), 60_000)).map((r) => r.recipient))
      .toEqual(["b@remote.test"]);
  });

  test("recording clears the lease; a late outcome from an owner whose lease was taken over is ignored", async () => {
    const queueId = await enqueue(store, ["a@remote.test"]);
    const t = Date.now() + 1000;
    const [row] = await store.queue.claim(store.instanceId, new Date(t), 1000);
    await other.queue.claim(other.instanceId, new Date(t + 2000), 1000);
    const late = await store.queue.record(store.instanceId, queueId, [
      { recipientId: row!.id, status: "failed", attempts: 1, lastReply: "550 no", nextAttemptAt: new Date(t) },
    ]);
    expect(late).toEqual([]);
    expect(await recipientRows()).toEqual([
      {
        id: row!.id,
        status: "pending",
        attempts: 0,
        last_reply: null,
        lease_owner: other.instanceId,
        lease_until: t + 3000,
      },
    ]);
    const retry = new Date(t + 600_000);
    const recorded = await other.queue.record(other.instanceId, queueId, [
      { recipientId: row!.id, status: "pending", attempts: 1, lastReply: "451 later", nextAttemptAt: retry },
    ]);
    expect(recorded).toEqual([row!.id]);
    expect(await recipientRows()).toEqual([
      {
        id: row!.id,
        status: "pending",
        attempts: 1,
        last_reply: "451 later",
        lease_owner: null,
        lease_until: null,
      },
    ]);
    // Recorded and released: the next claim at the retry time gets it, whoever asks.
    expect((await store.queue.claim(store.instanceId, retry, 1000)).map((r) => r.id)).toEqual([row!.id]);
    // The last recipient done: the message leaves the queue.
    await store.queue.record(store.instanceId, queueId, [
      { recipientId: row!.id, status: "delivered", attempts: 2, lastReply: "250 ok", nextAttemptAt: retry },
    ]);
    expect(await store.queue.list()).toEqual([]);
    expect(await temp.count("blobs")).toBe(0);
  });

  test("release gives back only the owner's leases; retryNow frees leases that ran out, not live ones", async () => {
    const queueId = await enqueue(store, ["a@remote.test", "b@remote.test"]);
    await Bun.sleep(5);
    const [a] = await store.queue.claim(store.instanceId, new Date(), 300, 1);
    const [b] = await other.queue.claim(other.instanceId, new Date(), 600_000, 1);
    expect([a!.recipient, b!.recipient]).toEqual(["a@remote.test", "b@remote.test"]);
    await other.queue.release(other.instanceId, [a!.id, b!.id]);
    expect((await recipientRows()).map((r) => r.lease_owner)).toEqual([store.instanceId, null]);
    // Released: due again at once.
    expect((await other.queue.claim(other.instanceId, new Date(), 600_000)).map((r) => r.id)).toEqual([b!.id]);
    await Bun.sleep(350); // a's lease runs out
    await store.queue.retryNow(queueId);
    const rows = await recipientRows();
    expect(rows.map((r) => r.lease_owner)).toEqual([null, other.instanceId]);
    expect(rows[1]!.lease_until).toBeGreaterThan(Date.now());
  });
});

describe("claims from processes running at once", () => {
  test("two processes draining the queue together claim every recipient exactly once", async () => {
    const ids: number[] = [];
    for (let m = 0; m < 20; m++) {
      await enqueue(store, Array.from({ length: 10 }, (_, i) => `r${m}-${i}@remote.test`), `message ${m}`);
    }
    for (const r of await recipientRows()) ids.push(r.id as number);
    const pair = [spawnChild(["drain", dbPath, "3", "600000"]), spawnChild(["drain", dbPath, "3", "600000"])];
    for (const c of pair) expect(await c.line()).toBe("ready");
    for (const c of pair) c.go();
    const got = await Promise.all(pair.map(async (c) => JSON.parse(await c.line()) as number[]));
    for (const c of pair) expect(await c.proc.exited).toBe(0);
    // Both took part, neither took a row the other had, and nothing was left out.
    expect(got[0]!.length).toBeGreaterThan(0);
    expect(got[1]!.length).toBeGreaterThan(0);
    expect(got[0]!.filter((id) => got[1]!.includes(id))).toEqual([]);
    expect([...got[0]!, ...got[1]!].sort((x, y) => x - y)).toEqual(ids);
    const owners = new Set((await recipientRows()).map((r) => r.lease_owner));
    expect(owners.size).toBe(2);
    expect(owners.has(null)).toBe(false);
  }, 30_000);
});

/** The remote side: accepts everyone and remembers what arrived, and when. */
class RecordingMx implements SmtpBackend {
  received: Array<{ transaction: MailTransaction; content: string; at: number }> = [];
  async authenticate() {
    return null;
  }
  async mayUseSender() {
    return true;
  }
  async checkRecipient(): Promise<RecipientVerdict> {
    return "accept";
  }
  async deliver(transaction: MailTransaction, content: Uint8Array): Promise<DeliveryResult> {
    this.received.push({ transaction, content: new TextDecoder().decode(content), at: Date.now() });
    return { ok: true };
  }
}

async function startMx(backend: SmtpBackend): Promise<Listener> {
  return await listen(await remoteMxOptions(backend));
}

/** A runner in this process sending remote.test's mail to the MX on `mxPort`. */
function runnerTo(mxPort: number, leaseMs = 1500): QueueRunner {
  return new QueueRunner({
    store,
    deliverer: new Deliverer(store, new Directory(store), { hostname: "mx.postern.test", resolve: async () => [] }),
    hostname: "mx.postern.test",
    resolve: async () => {
      throw new Error("no DNS in this test");
    },
    transport: { "remote.test": `127.0.0.1:${mxPort}` },
    requireTls: false,
    maxAgeMs: 86_400_000,
    retryDelayMs: 60_000,
    pollMs: 100,
    leaseMs,
  });
}

describe("a process killed mid-delivery", () => {
  /** A child that claims both recipients (as `owner`, if given) and is then killed with SIGKILL. */
  async function killedHolder(owner?: string): Promise<number> {
    const holder = spawnChild(["hold", dbPath, "1500", ...(owner ? [owner] : [])]);
    expect(await holder.line()).toBe("ready");
    holder.go();
    const held = JSON.parse(await holder.line()) as number[];
    expect(held.length).toBe(2);
    holder.proc.kill("SIGKILL");
    await holder.proc.exited;
    expect(holder.proc.signalCode).toBe("SIGKILL");
    const leases = await recipientRows();
    expect(leases.every((r) => r.lease_owner !== null && r.lease_owner !== store.instanceId)).toBe(true);
    return Math.max(...leases.map((r) => r.lease_until as number));
  }

  async function deliveredOnce(remote: RecordingMx, runner: QueueRunner, queueId: number): Promise<number> {
    const deadline = Date.now() + 15_000;
    while (!remote.received.length && Date.now() < deadline) await Bun.sleep(50);
    expect(remote.received.length).toBe(1);
    expect(remote.received[0]!.transaction.recipients.map((r) => r.address)).toEqual([
      "one@remote.test",
      "two@remote.test",
    ]);
    expect(remote.received[0]!.content).toContain("Subject: only once");
    // A few more passes: nothing is sent again, and the message has left the queue.
    await Bun.sleep(500);
    await runner.stop();
    expect(remote.received.length).toBe(1);
    expect(await store.queue.list(queueId)).toEqual([]);
    return remote.received[0]!.at;
  }

  test(
    "on another host: its lease holds until it expires, then another process delivers the message exactly once",
    async () => {
      const remote = new RecordingMx();
      const mx = await startMx(remote);
      const runner = runnerTo(mx.address().port);
      try {
        const queueId = await enqueue(store, ["one@remote.test", "two@remote.test"], "only once");
        const leaseUntil = await killedHolder("node-b.postern.test:4242:cafe");
        // Still held by the dead process: nothing to do yet.
        expect(Date.now()).toBeLessThan(leaseUntil);
        expect(await runner.runOnce()).toBe(0);
        runner.start();
        expect(await deliveredOnce(remote, runner, queueId)).toBeGreaterThan(leaseUntil);
      } finally {
        await runner.stop();
        await mx.close(0);
      }
    },
    30_000,
  );

  test(
    "on this host: a runner that starts frees the dead process's leases at once and delivers exactly once",
    async () => {
      const remote = new RecordingMx();
      const mx = await startMx(remote);
      const runner = runnerTo(mx.address().port);
      try {
        const queueId = await enqueue(store, ["one@remote.test", "two@remote.test"], "only once");
        const leaseUntil = await killedHolder();
        expect(await runner.runOnce()).toBe(0);
        runner.start();
        expect(await deliveredOnce(remote, runner, queueId)).toBeLessThan(leaseUntil);
      } finally {
        await runner.stop();
        await mx.close(0);
      }
    },
    30_000,
  );
});

/** A remote server that takes `delayMs` to answer the end of DATA. */
class SlowMx extends RecordingMx {
  constructor(private readonly delayMs: number) {
    super();
  }
  override async deliver(transaction: MailTransaction, content: Uint8Array): Promise<DeliveryResult> {
    await Bun.sleep(this.delayMs);
    return super.deliver(transaction, content);
  }
}

describe("a long attempt", () => {
  test(
    "renews its lease: while a slow server takes 2.5 × the lease, another process claims nothing; delivered once",
    async () => {
      const remote = new SlowMx(1500);
      const mx = await startMx(remote);
      const runner = runnerTo(mx.address().port, 600);
      try {
        const queueId = await enqueue(store, ["one@remote.test"], "slow");
        const attempt = runner.runOnce();
        await Bun.sleep(1000);
        // Past the lease's first expiry: renewed, so the other process gets nothing.
        expect(await other.queue.claim(other.instanceId, new Date(), 600)).toEqual([]);
        expect(await attempt).toBe(1);
        expect(remote.received.length).toBe(1);
        expect(await store.queue.list(queueId)).toEqual([]);
      } finally {
        await runner.stop();
        await mx.close(0);
      }
    },
    30_000,
  );
});
