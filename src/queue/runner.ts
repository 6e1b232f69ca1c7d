/**
 * The outbound queue: picks due recipients, delivers each message once per destination domain
 * over SMTP, and records the outcome — delivered, failed (a DSN goes back to the sender) or
 * deferred with backoff until the maximum age. Rows survive restarts: the queue is the table.
 */
import type { Deliverer } from "../deliver/deliverer.ts";
import { log } from "../util/log.ts";
import type { DnsResolve } from "../net/dns.ts";
import { dial } from "../net/dial.ts";
import { type ClientReply, deliverMessage, TLS_FAILED } from "../smtp/client.ts";
import type { AttemptOutcome, QueuedMessage } from "../store/queue.ts";
import type { Store } from "../store/store.ts";
import { buildDsn, type DsnRecipient, wantsNotice } from "./dsn.ts";
import { retryDelayMs, routeFor } from "./route.ts";
import { postWebhook, type WebhookOptions } from "./webhook.ts";

export interface QueueRunnerOptions {
  store: Store;
  deliverer: Deliverer;
  hostname: string;
  resolve: DnsResolve;
  transport: Record<string, string>;
  relayHost?: string;
  relayAuth?: { username: string; password: string };
  requireTls: boolean;
  maxAgeMs: number;
  /** A deferred recipient older than this gets one "delayed" DSN; 0 turns them off. */
  delayWarningMs?: number;
  retryDelayMs?: number;
  mxPort?: number;
  webhooks?: WebhookOptions;
  /** DKIM-signs a message leaving for `domain`'s recipients, or returns it as it is. */
  sign?: (raw: Uint8Array, sender: string) => Promise<Uint8Array>;
  pollMs?: number;
  now?: () => number;
}

type Due = {
  id: number;
  queueId: number;
  recipient: string;
  notify: string | null;
  orcpt: string | null;
  attempts: number;
  delayNotified: boolean;
};

export class QueueRunner {
  #options: QueueRunnerOptions;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | null = null;
  #again = false;

  constructor(options: QueueRunnerOptions) {
    this.#options = options;
  }

  start(): void {
    this.#timer = setInterval(
      () => this.wake(),
      this.#options.pollMs ?? Math.min(30_000, this.#options.retryDelayMs ?? 30_000),
    );
    this.wake();
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

  /** One pass over the due recipients; returns how many were attempted. */
  async runOnce(): Promise<number> {
    const now = (this.#options.now ?? Date.now)();
    const { store } = this.#options;
    const due: Due[] = await store.queue.due(new Date(now));
    const groups = new Map<string, Due[]>();
    for (const d of due) {
      // Webhooks one by one; mail once per message and destination domain.
      const key = /^https:\/\//i.test(d.recipient)
        ? `${d.queueId} ${d.recipient}`
        : `${d.queueId} ${d.recipient.slice(d.recipient.lastIndexOf("@") + 1).toLowerCase()}`;
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    const work = [...groups.entries()];
    // A few destinations at a time.
    for (let i = 0; i < work.length; i += 8) {
      await Promise.all(work.slice(i, i + 8).map(([key, rows]) => this.#deliverGroup(key.split(" ")[1]!, rows, now)));
    }
    return due.length;
  }

  async #deliverGroup(domain: string, rows: Due[], now: number): Promise<void> {
    const { store } = this.#options;
    const message = await store.queue.message(rows[0]!.queueId);
    if (!message) return;
    const raw = await store.emails.readBlob(message.blobHash);
    if (!raw) return;
    const outcome = new Map<number, { reply: ClientReply; mta?: string }>();
    if (/^https:\/\//i.test(domain)) {
      const row = rows[0]!;
      const to = row.orcpt?.replace(/^rfc822;/i, "") ?? row.recipient;
      const reply = await postWebhook(
        row.recipient,
        { envelope: { from: message.sender, to }, raw },
        this.#options.webhooks ?? { timeoutMs: 30_000 },
      );
      outcome.set(row.id, { reply, mta: new URL(row.recipient).host });
      await this.#record(message, rows, outcome, now, raw);
      return;
    }
    const route = await routeFor(domain, {
      transport: this.#options.transport,
      relayHost: this.#options.relayHost,
      resolve: this.#options.resolve,
      mxPort: this.#options.mxPort,
    });
    if (route.kind !== "hops") {
      const reply = route.kind === "fail"
        ? { code: route.code, enhanced: route.enhanced, text: route.text }
        : { code: 451, enhanced: "4.4.3", text: route.text };
      for (const r of rows) outcome.set(r.id, { reply });
    } else {
      const content = this.#options.sign ? await this.#options.sign(raw, message.sender) : raw;
      let last: ClientReply = { code: 451, enhanced: "4.4.1", text: "No destination answered" };
      for (const hop of route.hops) {
        // Opportunistic TLS (RFC 3207 §4.1): a hop whose handshake fails is tried again in clear.
        for (const skipTls of this.#options.requireTls ? [false] : [false, true]) {
          let conn;
          try {
            const address = await this.#address(hop.host);
            conn = await dial({
              host: address,
              port: hop.port,
              servername: hop.host,
              verifyTls: false,
              connectTimeoutMs: 30_000,
              idleTimeoutMs: 300_000,
            });
          } catch (e) {
            last = {
              code: 451,
              enhanced: "4.4.1",
              text: `Cannot connect to ${hop.host}:${hop.port}: ${(e as Error).message}`,
            };
            break;
          }
          try {
            const result = await deliverMessage(
              conn,
              {
                sender: message.sender,
                recipients: rows.map((r) => ({
                  address: r.recipient,
                  notify: r.notify?.split(","),
                  orcpt: r.orcpt ?? undefined,
                })),
                content,
                envid: message.envid ?? undefined,
                ret: message.ret ?? undefined,
              },
              {
                helo: this.#options.hostname,
                requireTls: this.#options.requireTls,
                auth: route.relay ? this.#options.relayAuth : undefined,
                skipTls,
              },
            );
            rows.forEach((r, i) => outcome.set(r.id, { reply: result.recipients[i]!.reply, mta: hop.host }));
          } finally {
            conn.close();
          }
          if (!outcome.get(rows[0]!.id)!.reply.text.startsWith(TLS_FAILED)) break;
        }
        // RFC 5321 §5.1: try the next MX only when this one failed temporarily for everyone.
        if ([...outcome.values()].some((o) => o.reply.code < 400 || o.reply.code >= 500)) break;
        if (outcome.size) last = outcome.get(rows[0]!.id)!.reply;
        outcome.clear();
      }
      for (const r of rows) if (!outcome.has(r.id)) outcome.set(r.id, { reply: last });
    }
    await this.#record(message, rows, outcome, now, raw);
  }

  async #address(host: string): Promise<string> {
    if (/^[\d.]+$/.test(host) || host.includes(":")) return host;
    try {
      const a = (await this.#options.resolve(host, "A")) as string[];
      if (a.length) return a[0]!;
    } catch {
      // fall through to AAAA
    }
    const aaaa = (await this.#options.resolve(host, "AAAA")) as string[];
    return aaaa[0]!;
  }

  async #record(
    message: QueuedMessage,
    rows: Due[],
    outcome: Map<number, { reply: ClientReply; mta?: string }>,
    now: number,
    raw: Uint8Array,
  ): Promise<void> {
    const { store } = this.#options;
    const age = now - message.createdAt.getTime();
    const expired = age > this.#options.maxAgeMs;
    const warnAfter = this.#options.delayWarningMs ?? 0;
    const retryUntil = new Date(message.createdAt.getTime() + this.#options.maxAgeMs);
    const notices: DsnRecipient[] = [];
    const outcomes: AttemptOutcome[] = [];
    for (const r of rows) {
      const { reply, mta } = outcome.get(r.id)!;
      const text = `${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ""} ${reply.text}`.trim();
      const failed = reply.code >= 500 || (reply.code >= 400 && expired);
      const status = reply.code < 400 ? "delivered" : failed ? "failed" : "pending";
      // One line per attempt, like Postfix's status=sent/deferred/bounced.
      log.info("delivery", {
        queue: message.id,
        to: r.recipient,
        status: status === "pending" ? "deferred" : status === "failed" ? "bounced" : "sent",
        relay: mta ?? "none",
        reply: text,
      });
      // Still deferred after the warning time: the sender hears once that it is taking long.
      const delayed = status === "pending" && warnAfter > 0 && age >= warnAfter && !r.delayNotified;
      outcomes.push({
        recipientId: r.id,
        status,
        attempts: r.attempts + 1,
        lastReply: text,
        nextAttemptAt: new Date(now + retryDelayMs(r.attempts + 1, this.#options.retryDelayMs)),
        delayNotified: delayed,
      });
      const action = status === "delivered" ? "delivered" : status === "failed" ? "failed" : delayed ? "delayed" : null;
      if (action && wantsNotice(r.notify, action)) {
        const code = reply.enhanced ?? (action === "failed" ? "5.0.0" : action === "delayed" ? "4.0.0" : "2.0.0");
        notices.push({
          address: r.recipient,
          orcpt: r.orcpt,
          action,
          status: code,
          remoteMta: mta,
          diagnostic: text,
          ...(action === "delayed" ? { willRetryUntil: retryUntil } : {}),
        });
      }
    }
    // A message whose recipients are all done leaves the queue (and its blob, if no mailbox holds it).
    await store.queue.record(message.id, outcomes);
    // RFC 3461: never a DSN for a message with the null sender.
    if (notices.length && message.sender !== "") {
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
}
