/**
 * The outbound queue's scheduler: claims due recipients (a lease, so processes sharing the
 * database never deliver the same one), hands each message once per destination to the
 * transport, lets `decision.ts` say what the replies mean, records the outcomes and sends the
 * DSNs owed through the deliverer. Rows survive restarts: the queue is the table.
 */
import type { Deliverer } from "../deliver/deliverer.ts";
import { count, observe } from "../util/counters.ts";
import { log } from "../util/log.ts";
import { ownerIsGone } from "../util/owner.ts";
import type { QueuedMessage, QueuedRecipient } from "../store/queue.ts";
import type { Store } from "../store/store.ts";
import { type Attempt, decide, type Decision, type Notice } from "./decision.ts";
import { buildDsn } from "./dsn.ts";
import { destinationOf, isWebhook, type RecipientReply, Transport, type TransportOptions } from "./transport.ts";

/** The transport's settings (routes, relay, TLS, webhooks, signing) and the scheduler's own. */
export interface QueueRunnerOptions extends TransportOptions {
  store: Store;
  deliverer: Deliverer;
  maxAgeMs: number;
  /** A deferred recipient older than this gets one "delayed" DSN; 0 turns them off. */
  delayWarningMs?: number;
  retryDelayMs?: number;
  pollMs?: number;
  /**
   * How long a claim on a recipient holds without renewal (5 minutes by default); a running
   * attempt renews it every third of that. After it lapses (its process died), another process
   * sharing the database takes the recipient over.
   */
  leaseMs?: number;
  now?: () => number;
}

/** Recipients claimed in one pass, at most. */
const CLAIM_LIMIT = 500;
const DEFAULT_LEASE_MS = 5 * 60_000;
/** Destinations attempted at once. */
const PARALLEL = 8;

export class QueueRunner {
  #options: QueueRunnerOptions;
  #transport: Transport;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(options: QueueRunnerOptions) {
    this.#options = options;
    this.#transport = new Transport(options);
  }

  start(): void {
    this.#timer = setInterval(
      () => this.wake(),
      this.#options.pollMs ?? Math.min(30_000, this.#options.retryDelayMs ?? 30_000),
    );
    // A restart should not wait out the leases its previous run (or a crashed neighbour on this host) held.
    void this.#freeLeasesOfGoneProcesses().finally(() => this.wake());
  }

  async #freeLeasesOfGoneProcesses(): Promise<void> {
    try {
      const gone = (await this.#options.store.queue.leaseOwners()).filter(ownerIsGone);
      if (!gone.length) return;
      await this.#options.store.queue.releaseOwners(gone);
      log.info("queue leases of stopped processes released", { owners: gone.join(" ") });
    } catch (e) {
      log.warn("could not release the queue leases of stopped processes", { error: String(e) });
    }
  }

  /** Runs the queue now (after a message was queued), or right after the current run. */
  wake(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.runOnce()
      .catch((e) => log.error("queue run failed", { error: String(e) }))
      .then(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.wake();
        }
      });
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#again = false;
    await this.#running;
  }

  #leaseMs(): number {
    return this.#options.leaseMs ?? DEFAULT_LEASE_MS;
  }

  /** One pass over the due recipients this process could claim; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const now = (this.#options.now ?? Date.now)();
    const { store } = this.#options;
    const claimed = await store.queue.claim(store.instanceId, new Date(now), this.#leaseMs(), CLAIM_LIMIT);
    const groups = new Map<string, QueuedRecipient[]>();
    for (const r of claimed) {
      // Webhooks one by one; mail once per message and destination domain.
      const key = isWebhook(r.recipient) ? `${r.queueId} #${r.id}` : `${r.queueId} ${destinationOf(r.recipient)}`;
      groups.set(key, [...(groups.get(key) ?? []), r]);
    }
    const work = [...groups.values()];
    for (let i = 0; i < work.length; i += PARALLEL) {
      await Promise.all(work.slice(i, i + PARALLEL).map((rows) => this.#attempt(rows, now)));
    }
    return claimed.length;
  }

  /** One message to one destination; an attempt that breaks gives its claims back, to be retried at the next pass. */
  async #attempt(rows: QueuedRecipient[], now: number): Promise<void> {
    const { store } = this.#options;
    const owner = store.instanceId;
    try {
      const message = await store.queue.message(rows[0]!.queueId);
      if (!message) return; // dropped meanwhile, recipients and all
      const raw = await store.emails.readBlob(message.blobHash);
      if (!raw) throw new Error(`blob ${message.blobHash} of queued message ${message.id} is missing`);
      // The claim is renewed while the attempt runs, so a slow remote server cannot outlast it
      // and have another process deliver the same message meanwhile.
      const leaseMs = this.#leaseMs();
      const renewal = setInterval(() => {
        store.queue.renew(owner, rows.map((r) => r.id), new Date(Date.now() + leaseMs)).catch((error) =>
          log.warn("queue lease not renewed", { queue: message.id, error: String(error) })
        );
      }, leaseMs / 3);
      let replies;
      try {
        replies = await this.#transport.send(destinationOf(rows[0]!.recipient), message, rows, raw);
      } finally {
        clearInterval(renewal);
      }
      const attempts: Attempt[] = rows.map((r, i) => ({ ...r, ...replies[i]! }));
      const decision = decide(message, attempts, now, this.#options);
      logAttempts(message, attempts, replies, decision, (this.#options.now ?? Date.now)());
      // A message whose recipients are all done leaves the queue (and its blob, if no mailbox holds it).
      const recorded = new Set(await store.queue.record(owner, message.id, decision.outcomes));
      if (recorded.size < rows.length) {
        log.warn("queue claim lost before its outcome was recorded", { queue: message.id, owner });
      }
      // Only for what this process recorded: a recipient taken over by another process is its to report.
      const notices = decision.notices.filter((n) => recorded.has(n.recipientId));
      if (notices.length) await this.#notify(message, notices, raw);
    } catch (e) {
      log.error("queue attempt failed", { queue: rows[0]!.queueId, error: String(e) });
      await store.queue.release(owner, rows.map((r) => r.id)).catch((error) =>
        log.error("queue claim not released", { queue: rows[0]!.queueId, error: String(error) })
      );
    }
  }

  /** The DSN (RFC 3464) to the sender; the decision already left out the null sender. */
  async #notify(message: QueuedMessage, notices: Notice[], raw: Uint8Array): Promise<void> {
    const dsn = buildDsn({
      hostname: this.#options.hostname,
      to: message.sender,
      envid: message.envid,
      ret: message.ret,
      arrivalDate: message.createdAt,
      recipients: notices,
      original: raw,
    });
    await this.#options.deliverer.deliver({
      sender: "",
      recipients: [{ address: message.sender }],
      raw: dsn,
      inbound: false,
      remoteIp: "127.0.0.1",
      helo: this.#options.hostname,
    });
  }
}

/**
 * One line per recipient and attempt, in Postfix's shape as logfmt: `queue=12 to=<a@b.example>
 * relay=mx.b.example[192.0.2.1]:25 delay=1.2 dsn=2.0.0 status=sent reply="250 2.0.0 Ok"`. `delay`
 * is seconds since the message arrived; `status` is sent, deferred or bounced.
 */
function logAttempts(
  message: QueuedMessage,
  attempts: readonly Attempt[],
  replies: readonly RecipientReply[],
  decision: Decision,
  now: number,
): void {
  decision.outcomes.forEach((o, i) => {
    const a = attempts[i]!;
    const reply = a.reply;
    const dsn = reply.enhanced ?? `${String(reply.code)[0]}.0.0`;
    const status = o.status === "pending" ? "deferred" : o.status === "failed" ? "bounced" : "sent";
    const delay = (now - message.createdAt.getTime()) / 1000;
    count("postern_deliveries_total", { status });
    // From arrival to the end of the road: delivered, or bounced.
    if (status !== "deferred") observe("postern_delivery_seconds", delay, { status });
    (status === "sent" ? log.info : log.warn)("delivery", {
      queue: message.id,
      to: `<${a.recipient}>`,
      relay: replies[i]?.relay ?? "none",
      delay: delay.toFixed(1),
      attempt: o.attempts,
      dsn,
      status,
      reply: o.lastReply,
    });
  });
}
