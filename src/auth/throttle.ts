/**
 * Slows down password guessing across sessions, protocols and processes: failures are counted
 * per client IP and per account name over a window, and past a threshold every further attempt
 * from that IP or for that account waits, doubling up to a ceiling. A success clears the
 * account's count (not the IP's: one good password must not unlock guessing at others).
 *
 * The counts live in the database (`store.policy`, keys `auth-ip|<ip>` and `auth-user|<name>`),
 * so several `postern serve` processes sharing it throttle as one, and a restart forgets nothing.
 */

/** Counters by key and window start (epoch ms); `store.policy` implements this over rate_counters. */
export interface ThrottleCounters {
  /** Each key's total over the windows that started at or after `since`; keys with none are absent. */
  sumCounters(keys: readonly string[], since: number): Promise<Map<string, number>>;
  /** Adds one to each key's counter in the window starting at `windowStart`. */
  bumpCounters(keys: readonly string[], windowStart: number): Promise<void>;
  /** Forgets every window of a key. */
  clearCounter(key: string): Promise<void>;
  /** Forgets the windows that started before `before`, of every key beginning with `prefix`. */
  pruneCounters(prefix: string, before: number): Promise<void>;
}

export interface ThrottleOptions {
  /** Failures allowed in the window before attempts are slowed. */
  threshold: number;
  counters: ThrottleCounters;
  windowMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

const PREFIX = "auth-";
const ipKey = (ip: string) => `${PREFIX}ip|${ip}`;
const userKey = (username: string) => `${PREFIX}user|${username.toLowerCase()}`;

/**
 * Failures are counted in buckets of a fifteenth of the window, and the buckets that started
 * within the last window are summed: a sliding window where a failure is forgotten between 14/15
 * of the window and the whole of it after it happened, with one upsert per key and failure.
 */
const BUCKETS = 15;

export class AuthThrottle {
  readonly #options: Required<Omit<ThrottleOptions, "counters">>;
  readonly #counters: ThrottleCounters;
  readonly #bucketMs: number;
  #prunedAt = -Infinity;

  constructor({ counters, ...options }: ThrottleOptions) {
    this.#options = { windowMs: 15 * 60_000, baseDelayMs: 250, maxDelayMs: 8000, now: Date.now, ...options };
    this.#counters = counters;
    this.#bucketMs = Math.max(1, Math.ceil(this.#options.windowMs / BUCKETS));
  }

  /** How long to wait before checking this attempt's password. */
  async delayFor(ip: string, username: string): Promise<number> {
    const keys = [ipKey(ip), userKey(username)];
    const counts = await this.#counters.sumCounters(keys, this.#since(this.#options.now()));
    const excess = Math.max(...keys.map((key) => counts.get(key) ?? 0)) - this.#options.threshold;
    if (excess < 0) return 0;
    return Math.min(this.#options.baseDelayMs * 2 ** excess, this.#options.maxDelayMs);
  }

  async failed(ip: string, username: string): Promise<void> {
    const now = this.#options.now();
    await this.#counters.bumpCounters([ipKey(ip), userKey(username)], now - (now % this.#bucketMs));
    // Buckets out of the window are never read again; each process sweeps them once a window,
    // so a flood of IPs cannot grow the table without end.
    if (now - this.#prunedAt >= this.#options.windowMs) {
      this.#prunedAt = now;
      await this.#counters.pruneCounters(PREFIX, this.#since(now));
    }
  }

  async succeeded(username: string): Promise<void> {
    await this.#counters.clearCounter(userKey(username));
  }

  /** The first bucket start still inside the window ending at `now`. */
  #since(now: number): number {
    return now - this.#options.windowMs + 1;
  }
}
