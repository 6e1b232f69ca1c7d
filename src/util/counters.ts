/**
 * The process's counters and histograms for `/metrics` (issue 20, item 5): messages received and
 * refused, deliveries, logins, SMTP transaction and delivery times. Code that counts calls
 * `count()` or `observe()`; src/api/metrics.ts renders them.
 *
 * With `serve --workers N` only the primary serves HTTP, so each worker writes a snapshot of its
 * counters to `<dataDir>/run/metrics-<pid>.json` every few seconds and the primary adds them up
 * at each scrape (`peerSnapshots`). Snapshots of workers that ended stay until the primary's next
 * start, so totals never go down while it runs. Counts kept elsewhere (the DNS statistics of
 * src/net/dns-stats.ts, the recent activity of src/util/activity.ts) travel beside them as `parts`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Upper bounds (seconds) of the SMTP transaction and delivery histograms. */
export const TIME_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600] as const;

export interface Histogram {
  /** Per TIME_BUCKETS bound, observations at most that long; the last entry is +Inf. */
  buckets: number[];
  sum: number;
  count: number;
}

/** A metric name with its labels in a fixed order: `name{a="x",b="y"}` is the key. */
export interface Snapshot {
  counters: Record<string, number>;
  histograms: Record<string, Histogram>;
}

/** The workers' snapshots added up, and the other counts each left, by name (`{ dns: … }`), one entry per worker. */
export interface PeerSnapshots extends Snapshot {
  parts: Array<Record<string, unknown>>;
}

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

function key(name: string, labels?: Record<string, string | number>): string {
  let parts = "";
  for (const k in labels) {
    const v = String(labels[k]);
    parts += `${parts ? "," : ""}${k}="${/[\\"\n]/.test(v) ? escape(v) : v}"`;
  }
  return parts ? `${name}{${parts}}` : name;
}

const local: Snapshot = { counters: {}, histograms: {} };

/** Adds `by` to a counter. */
export function count(name: string, labels?: Record<string, string | number>, by = 1): void {
  const k = key(name, labels);
  local.counters[k] = (local.counters[k] ?? 0) + by;
}

/** Records one duration (seconds) in a histogram. */
export function observe(name: string, seconds: number, labels?: Record<string, string | number>): void {
  const k = key(name, labels);
  const h = local.histograms[k] ??= { buckets: new Array(TIME_BUCKETS.length + 1).fill(0), sum: 0, count: 0 };
  const bucket = TIME_BUCKETS.findIndex((bound) => seconds <= bound);
  h.buckets[bucket === -1 ? TIME_BUCKETS.length : bucket]!++;
  h.sum += seconds;
  h.count++;
}

/** This process's counters (a copy). */
export function localSnapshot(): Snapshot {
  return structuredClone(local);
}

/** Adds `from` into `into`. */
export function mergeSnapshot(into: Snapshot, from: Snapshot): Snapshot {
  for (const [k, n] of Object.entries(from.counters)) into.counters[k] = (into.counters[k] ?? 0) + n;
  for (const [k, h] of Object.entries(from.histograms)) {
    const t = into.histograms[k] ??= { buckets: new Array(h.buckets.length).fill(0), sum: 0, count: 0 };
    h.buckets.forEach((n, i) => (t.buckets[i] = (t.buckets[i] ?? 0) + n));
    t.sum += h.sum;
    t.count += h.count;
  }
  return into;
}

let peersDir: string | undefined;

/** In the primary: where workers' snapshots are read from, emptied now (counters start again with the server). */
export function readPeerSnapshotsFrom(dir: string): void {
  peersDir = dir;
  if (existsSync(dir)) { for (const f of readdirSync(dir)) if (/^metrics-\d+\.json$/.test(f)) rmSync(join(dir, f)); }
}

/** The workers' snapshots added up, and each worker's parts (empty outside a primary with workers). */
export function peerSnapshots(): PeerSnapshots {
  const total: PeerSnapshots = { counters: {}, histograms: {}, parts: [] };
  if (!peersDir || !existsSync(peersDir)) return total;
  for (const f of readdirSync(peersDir)) {
    if (!/^metrics-\d+\.json$/.test(f) || f === `metrics-${process.pid}.json`) continue;
    try {
      const peer = JSON.parse(readFileSync(join(peersDir, f), "utf8")) as Snapshot & {
        parts?: Record<string, unknown>;
      };
      mergeSnapshot(total, peer);
      if (peer.parts) total.parts.push(peer.parts);
    } catch {
      // Being replaced right now: its previous content is gone, the next scrape has the new one.
    }
  }
  return total;
}

/**
 * In a worker: writes this process's snapshot every `intervalMs`, and once more when stopped, with
 * `parts()` (other counts by name, e.g. `{ dns: dnsStats.counts() }`).
 */
export function writeSnapshotsTo(
  dir: string,
  intervalMs = 5000,
  parts: () => Record<string, unknown> = () => ({}),
): () => void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `metrics-${process.pid}.json`);
  const write = () => {
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify({ ...local, parts: parts() }));
      renameSync(`${path}.tmp`, path);
    } catch {
      // The data directory went away (a test's cleanup); nothing to report to.
    }
  };
  const timer = setInterval(write, intervalMs);
  (timer as { unref?: () => void }).unref?.();
  return () => {
    clearInterval(timer);
    write();
  };
}
