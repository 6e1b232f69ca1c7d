/**
 * Counters of the DNS lookups Postern sends (not those answered from the TXT cache): how many per
 * record type, which failed and why, and a histogram of how long they took, for `/metrics`.
 */

/** Upper bounds (seconds) of the lookup-duration histogram. */
export const DNS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Answers that are answers, not failures: the name or the record type does not exist. */
const NEGATIVE = new Set(["ENOTFOUND", "ENODATA"]);

/** A DnsStats as plain data: what a worker leaves for the primary's `/metrics` (src/util/counters.ts). */
export interface DnsCounts {
  lookups: Record<string, number>;
  failures: Record<string, number>;
  buckets: number[];
  seconds: number;
  count: number;
  cacheHits: number;
}

/** Lookups sent to a resolver, their failures by code, and how long they took (for `/metrics`). */
export class DnsStats {
  /** rrtype → lookups sent */
  readonly lookups = new Map<string, number>();
  /** `rrtype code` → failures (timeouts, SERVFAIL, refused; not NXDOMAIN or NODATA) */
  readonly failures = new Map<string, number>();
  /** Per DNS_BUCKETS bound, lookups that took at most that long; the last entry is +Inf. */
  readonly buckets: number[] = new Array(DNS_BUCKETS.length + 1).fill(0);
  seconds = 0;
  count = 0;
  cacheHits = 0;

  /** The counts as plain data (a copy). */
  counts(): DnsCounts {
    return {
      lookups: Object.fromEntries(this.lookups),
      failures: Object.fromEntries(this.failures),
      buckets: [...this.buckets],
      seconds: this.seconds,
      count: this.count,
      cacheHits: this.cacheHits,
    };
  }

  /** Adds another process's counts (a worker's, with `serve --workers N`). */
  add(counts: DnsCounts): this {
    const sum = (into: Map<string, number>, from: Record<string, number>) => {
      for (const [k, n] of Object.entries(from)) into.set(k, (into.get(k) ?? 0) + n);
    };
    sum(this.lookups, counts.lookups);
    sum(this.failures, counts.failures);
    counts.buckets.forEach((n, i) => (this.buckets[i] = (this.buckets[i] ?? 0) + n));
    this.seconds += counts.seconds;
    this.count += counts.count;
    this.cacheHits += counts.cacheHits;
    return this;
  }

  async time<T>(rrtype: string, lookup: () => Promise<T>): Promise<T> {
    const started = performance.now();
    this.lookups.set(rrtype, (this.lookups.get(rrtype) ?? 0) + 1);
    try {
      return await lookup();
    } catch (e) {
      const code = (e as { code?: string }).code ?? "EUNKNOWN";
      if (!NEGATIVE.has(code)) {
        this.failures.set(`${rrtype} ${code}`, (this.failures.get(`${rrtype} ${code}`) ?? 0) + 1);
      }
      throw e;
    } finally {
      const elapsed = (performance.now() - started) / 1000;
      this.seconds += elapsed;
      this.count++;
      const bucket = DNS_BUCKETS.findIndex((bound) => elapsed <= bound);
      this.buckets[bucket === -1 ? DNS_BUCKETS.length : bucket]!++;
    }
  }
}

/** The process's DNS statistics, shown by `/metrics`. */
export const dnsStats = new DnsStats();
