/**
 * Slows down password guessing across sessions, protocols and processes: failures are counted
 * per client IP and per account name over a window, and past a threshold every further attempt
 * from that IP or for that account waits, doubling up to a ceiling. A success clears the
 * account's count (not the IP's: one good password must not unlock guessing at others).
 *
 * The counts live in the database (`store.policy`, keys `auth-ip|<ip>` and `auth-user|<name>`),
 * so several `postern serve` processes sharing it throttle as one, and a restart forgets nothing.
 *
 * Slowing alone still lets parallel guesses through, so an address with `ban.failures` failures in
 * the window is refused outright for `ban.durationMs` (key `authban|<ip>`, one row at the moment of
 * the ban), unless it is on the allow-list. Each ban is logged as one line a fail2ban filter can
 * match: `level=warn msg="auth ban" ip=<ip> failures=<n> seconds=<s>` (each failure is its own
 * `msg="auth failed"` line, src/backends/password.ts; filter in contrib/fail2ban/).
 */
import type { BlockList } from "node:net";
import { addressList, listHas } from "../util/ip-list.ts";
import { log } from "../util/log.ts";

/** Counters by key and window start (epoch ms); `store.policy` implements this over rate_counters. */
export interface ThrottleCounters {
  /** Each key's total over the windows that started at or after `since`; keys with none are absent. */
  sumCounters(keys: readonly string[], since: number): Promise<Map<string, number>>;
  /** Adds one to each key's counter in the window starting at `windowStart`. */
  bumpCounters(keys: readonly string[], windowStart: number): Promise<void>;
  /** Forgets every window of a key. */
  clearCounter(key: string): Promise<void>;
  /** How many keys beginning with `prefix` have a window that started at or after `since`. */
  countKeys(prefix: string, since: number): Promise<number>;
  /** Forgets the windows that started before `before`, of every key beginning with `prefix`. */
  pruneCounters(prefix: string, before: number): Promise<void>;
}

export interface BanOptions {
  /** Failures from one address within the window that ban it. */
  failures: number;
  durationMs: number;
  /** Addresses and networks (`10.0.0.0/8`, `::1`) never banned. */
  allow?: readonly string[];
}

export interface ThrottleOptions {
  /** Failures allowed in the window before attempts are slowed. */
  threshold: number;
  counters: ThrottleCounters;
  /** Without it, addresses are only slowed, never banned. */
  ban?: BanOptions;
  windowMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

const PREFIX = "auth-";
const ipKey = (ip: string) => `${PREFIX}ip|${ip}`;
const userKey = (username: string) => `${PREFIX}user|${username.toLowerCase()}`;
const BAN_PREFIX = "authban|";
const banKey = (ip: string) => `${BAN_PREFIX}${ip}`;

/**
 * Failures are counted in buckets of a fifteenth of the window, and the buckets that started
 * within the last window are summed: a sliding window where a failure is forgotten between 14/15
 * of the window and the whole of it after it happened, with one upsert per key and failure.
 */
const BUCKETS = 15;

export class AuthThrottle {
  readonly #options: Required<Omit<ThrottleOptions, "counters" | "ban">>;
  readonly #counters: ThrottleCounters;
  readonly #bucketMs: number;
  readonly #ban: (BanOptions & { allowed: BlockList }) | null;
  #prunedAt = -Infinity;

  constructor({ counters, ban, ...options }: ThrottleOptions) {
    this.#options = { windowMs: 15 * 60_000, baseDelayMs: 250, maxDelayMs: 8000, now: Date.now, ...options };
    this.#counters = counters;
    this.#bucketMs = Math.max(1, Math.ceil(this.#options.windowMs / BUCKETS));
    this.#ban = ban ? { ...ban, allowed: addressList(ban.allow ?? []) } : null;
  }

  /** Addresses banned now, by every process sharing the database (for /metrics). */
  async activeBans(): Promise<number> {
    if (!this.#ban) return 0;
    return this.#counters.countKeys(BAN_PREFIX, this.#options.now() - this.#ban.durationMs + 1);
  }

  /** Whether `ip` is banned now (too many failures lately, and not on the allow-list). */
  async banned(ip: string): Promise<boolean> {
    if (!this.#ban || listHas(this.#ban.allowed, ip)) return false;
    const since = this.#options.now() - this.#ban.durationMs + 1;
    const counts = await this.#counters.sumCounters([banKey(ip)], since);
    return (counts.get(banKey(ip)) ?? 0) > 0;
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
    await this.#maybeBan(ip, now);
    // Buckets out of the window are never read again; each process sweeps them once a window,
    // so a flood of IPs cannot grow the table without end.
    if (now - this.#prunedAt >= this.#options.windowMs) {
      this.#prunedAt = now;
      await this.#counters.pruneCounters(PREFIX, this.#since(now));
      if (this.#ban) await this.#counters.pruneCounters(BAN_PREFIX, now - this.#ban.durationMs + 1);
    }
  }

  async #maybeBan(ip: string, now: number): Promise<void> {
    const ban = this.#ban;
    if (!ban || listHas(ban.allowed, ip)) return;
    const failures = (await this.#counters.sumCounters([ipKey(ip)], this.#since(now))).get(ipKey(ip)) ?? 0;
    if (failures < ban.failures || (await this.banned(ip))) return;
    await this.#counters.bumpCounters([banKey(ip)], now);
    log.warn("auth ban", { ip, failures, seconds: Math.round(ban.durationMs / 1000) });
  }

  async succeeded(username: string): Promise<void> {
    await this.#counters.clearCounter(userKey(username));
  }

  /** The first bucket start still inside the window ending at `now`. */
  #since(now: number): number {
    return now - this.#options.windowMs + 1;
  }
}
