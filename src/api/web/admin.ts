/**
 * The admin console's own routes (issue 22), beside the REST admin API and with the same authorization: a domain's
 * DKIM keys with the record each needs (and a new key made, or another one activated, as `postern dkim` does), the
 * `postern dns check` of a domain, and an overview: the outbound queue's ages and latest replies, the counters of
 * /metrics for messages received, refused and delivered, policy verdicts per action and check, and messages
 * received per hour over the last day.
 */
import { existsSync, readFileSync } from "node:fs";
import type { Context, Hono } from "hono";
import type { CheckResult } from "../../dns-records/check.ts";
import { type DnsRecord, formatRecord } from "../../dns-records/records.ts";
import { generateDkimKey } from "../../forward/dkim.ts";
import { activateDkimKey, dkimRecord, listDkimKeyFiles } from "../../forward/dkim-keys.ts";
import type { Store } from "../../store/store.ts";
import { localSnapshot, mergeSnapshot, peerSnapshots } from "../../util/counters.ts";
import { checkDomainName, checkSelector } from "../../util/domain-name.ts";
import { readBody } from "../client.ts";
import { problem } from "../problem.ts";

export interface AdminConsoleOptions {
  /** Where `postern dkim generate` keeps the keys (`<dataDir>/dkim`). */
  dataDir: string;
  /** dkim.<domain> in the config: a key there signs instead of the data directory's. */
  configuredDkim?: Record<string, { selector: string; privateKey: string }>;
  /** `postern dns check <domain>` (src/cli/dns.ts). */
  dnsCheck?: (domain: string) => Promise<{ addresses: string[]; results: CheckResult[] }>;
}

/** Queue age buckets of the console's chart: upper bound in seconds, and label. */
const AGE_BUCKETS: Array<[number, string]> = [
  [5 * 60, "< 5 min"],
  [30 * 60, "5–30 min"],
  [2 * 3600, "30 min–2 h"],
  [12 * 3600, "2–12 h"],
  [86_400, "12–24 h"],
  [Infinity, "> 1 day"],
];
const HOUR = 3_600_000;
const HOURS = 24;
const SAMPLE_MS = 60_000;

/** Sums the counters of one metric (every label set), or per the value of one label. */
function sumOf(counters: Record<string, number>, name: string, byLabel?: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, n] of Object.entries(counters)) {
    if (key !== name && !key.startsWith(`${name}{`)) continue;
    const label = byLabel ? new RegExp(`[{,]${byLabel}="([^"]*)"`).exec(key)?.[1] ?? "" : "total";
    out[label] = (out[label] ?? 0) + n;
  }
  return out;
}

const counters = () => mergeSnapshot(localSnapshot(), peerSnapshots()).counters;
const received = () => sumOf(counters(), "postern_messages_received_total").total ?? 0;

/**
 * Messages received per hour: the counter of /metrics sampled each minute (and at each look), its growth put in
 * the hour it was seen. Counts start with the server; the sampling timer does not keep the process alive.
 */
class HourlyReceived {
  #hours = new Map<number, number>();
  #last = received();
  constructor() {
    const timer = setInterval(() => this.sample(), SAMPLE_MS);
    // Node and Bun give a Timeout with unref(); Deno a number for Deno.unrefTimer.
    if (typeof timer === "object") (timer as { unref?: () => void }).unref?.();
    else (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer as number);
  }
  sample(now = Date.now()): void {
    const total = received();
    const hour = Math.floor(now / HOUR) * HOUR;
    if (total > this.#last) this.#hours.set(hour, (this.#hours.get(hour) ?? 0) + total - this.#last);
    this.#last = total;
    for (const h of this.#hours.keys()) if (h <= hour - HOURS * HOUR) this.#hours.delete(h);
  }
  series(now = Date.now()): Array<{ hour: string; count: number }> {
    this.sample(now);
    const current = Math.floor(now / HOUR) * HOUR;
    return Array.from({ length: HOURS }, (_, i) => {
      const hour = current - (HOURS - 1 - i) * HOUR;
      return { hour: new Date(hour).toISOString(), count: this.#hours.get(hour) ?? 0 };
    });
  }
}

/** The console's routes; src/api/web/index.ts lets only the admin token or an admin's session reach them. */
export function mountAdminConsole(app: Hono, store: Store, options: AdminConsoleOptions | undefined): void {
  const hourly = new HourlyReceived();
  /** The domain of the URL when this server serves it. */
  const served = async (c: Context) => (await store.domains.get(c.req.param("domain") ?? ""))?.name ?? null;
  const noStore = { "cache-control": "no-store" };

  app.get("/admin/overview", async (c) => {
    const now = Date.now();
    const queue = await store.queue.list();
    const ages = AGE_BUCKETS.map(([, label]) => ({ label, count: 0 }));
    for (const m of queue) {
      const age = (now - m.createdAt.getTime()) / 1000;
      ages[AGE_BUCKETS.findIndex(([bound]) => age < bound)]!.count++;
    }
    // The latest replies of remote servers, newest queued first: what was deferred or refused, and why.
    const recent = queue.flatMap((m) =>
      m.recipients.map((r) => ({
        queueId: m.id,
        sender: m.sender,
        recipient: r.recipient,
        status: r.status,
        attempts: r.attempts,
        lastReply: r.lastReply,
        queuedAt: m.createdAt.toISOString(),
      }))
    ).reverse().slice(0, 50);
    const all = counters();
    return c.json(
      {
        queue: { messages: queue.length, ages, recent },
        totals: {
          received: sumOf(all, "postern_messages_received_total").total ?? 0,
          refused: sumOf(all, "postern_smtp_refused_total", "code"),
          deliveries: sumOf(all, "postern_deliveries_total", "status"),
          // Policy verdicts (spam, virus, DNSBL, rate limits, …) per action and per check, as /metrics counts them.
          verdicts: {
            byAction: sumOf(all, "postern_policy_verdicts_total", "action"),
            byCheck: sumOf(all, "postern_policy_verdicts_total", "check"),
          },
        },
        receivedPerHour: hourly.series(now),
      },
      200,
      noStore,
    );
  });

  app.get("/admin/dkim/:domain", async (c) => {
    const domain = await served(c);
    if (!domain) return problem(c, 404, "not-found", `No domain ${c.req.param("domain")}`);
    if (!options) return problem(c, 404, "not-found", "DKIM keys are not available here");
    const configured = options.configuredDkim?.[domain];
    const keys = listDkimKeyFiles(options.dataDir).filter((k) => k.domain === domain).map((k) => ({
      selector: k.selector,
      active: k.active && !configured,
      source: "dataDir",
      pem: readFileSync(k.path, "utf8"),
    }));
    if (configured && existsSync(configured.privateKey)) {
      keys.push({
        selector: configured.selector,
        active: true,
        source: "config",
        pem: readFileSync(configured.privateKey, "utf8"),
      });
    }
    return c.json(
      {
        domain,
        keys: keys.map(({ pem, ...k }) => {
          const record: DnsRecord = {
            type: "TXT",
            text: dkimRecord(pem),
            name: `${k.selector}._domainkey.${domain}`,
            kind: "dkim",
            purpose: "DKIM public key",
          };
          return { ...k, name: record.name, record: record.text, line: formatRecord(record) };
        }),
      },
      200,
      noStore,
    );
  });

  // A new key: the domain's first signs at once; another waits for activation (as `postern dkim generate`).
  app.post("/admin/dkim/:domain", async (c) => {
    const domain = await served(c);
    if (!domain) return problem(c, 404, "not-found", `No domain ${c.req.param("domain")}`);
    if (!options) return problem(c, 404, "not-found", "DKIM keys are not available here");
    const bytes = await readBody(c, 10_000);
    let body: { selector?: unknown; algorithm?: unknown } = {};
    try {
      if (bytes !== "too-large" && bytes.length) body = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      return problem(c, 400, "bad-request", "The body must be JSON: {selector?, algorithm?}");
    }
    const algorithm = body.algorithm ?? "rsa";
    if (algorithm !== "rsa" && algorithm !== "ed25519") {
      return problem(c, 400, "bad-request", "algorithm must be rsa or ed25519");
    }
    const selector = checkSelector(
      typeof body.selector === "string" && body.selector ? body.selector : `postern${new Date().getUTCFullYear()}`,
    );
    if (!selector.ok || !checkDomainName(domain).ok) return problem(c, 400, "bad-request", "Not a DKIM selector");
    const others = listDkimKeyFiles(options.dataDir).filter((k) => k.domain === domain);
    if (others.some((k) => k.selector === selector.name)) {
      return problem(c, 409, "conflict", `${domain} already has a key with selector ${selector.name}`);
    }
    const signing = others.find((k) => k.active);
    if (signing) activateDkimKey(options.dataDir, domain, signing.selector);
    const key = generateDkimKey(options.dataDir, domain, selector.name, algorithm);
    return c.json({ selector: selector.name, name: key.name, record: key.record, active: !signing }, 201, noStore);
  });

  app.post("/admin/dkim/:domain/:selector/activate", async (c) => {
    const domain = await served(c);
    if (!domain || !options) return problem(c, 404, "not-found", `No domain ${c.req.param("domain")}`);
    const key = listDkimKeyFiles(options.dataDir).find((k) =>
      k.domain === domain && k.selector === c.req.param("selector")
    );
    if (!key) return problem(c, 404, "not-found", `No DKIM key ${c.req.param("selector")} for ${domain}`);
    activateDkimKey(options.dataDir, domain, key.selector);
    return c.body(null, 204);
  });

  app.get("/admin/dns/:domain/check", async (c) => {
    const domain = await served(c);
    if (!domain) return problem(c, 404, "not-found", `No domain ${c.req.param("domain")}`);
    if (!options?.dnsCheck) return problem(c, 404, "not-found", "The DNS check is not available here");
    const { addresses, results } = await options.dnsCheck(domain);
    return c.json(
      {
        domain,
        addresses,
        results: results.map((r) => ({
          name: r.record.name,
          type: r.record.type,
          purpose: r.record.purpose,
          status: r.status,
          detail: r.detail ?? null,
          line: formatRecord(r.record),
        })),
      },
      200,
      noStore,
    );
  });
}
