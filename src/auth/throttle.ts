/**
 * Slows down password guessing across sessions and protocols: failures are counted per client
 * IP and per account name over a window, and past a threshold every further attempt from that
 * IP or for that account waits, doubling up to a ceiling. A success clears the account's count
 * (not the IP's: one good password must not unlock guessing at others).
 */

export interface ThrottleOptions {
  /** Failures allowed in the window before attempts are slowed. */
  threshold: number;
  windowMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

interface Counter {
  failures: number;
  since: number;
}

/** Counters kept at most; the oldest are forgotten first, so a flood of IPs cannot grow memory. */
const MAX_ENTRIES = 100_000;

export class AuthThrottle {
  #counters = new Map<string, Counter>();
  #options: Required<ThrottleOptions>;

  constructor(options: ThrottleOptions) {
    this.#options = { windowMs: 15 * 60_000, baseDelayMs: 250, maxDelayMs: 8000, now: Date.now, ...options };
  }

  /** How long to wait before checking this attempt's password. */
  delayFor(ip: string, username: string): number {
    const excess = Math.max(this.#count(`ip:${ip}`), this.#count(`user:${username.toLowerCase()}`)) -
      this.#options.threshold;
    if (excess < 0) return 0;
    return Math.min(this.#options.baseDelayMs * 2 ** excess, this.#options.maxDelayMs);
  }

  failed(ip: string, username: string): void {
    this.#bump(`ip:${ip}`);
    this.#bump(`user:${username.toLowerCase()}`);
  }

  succeeded(username: string): void {
    this.#counters.delete(`user:${username.toLowerCase()}`);
  }

  #count(key: string): number {
    const counter = this.#counters.get(key);
    if (!counter) return 0;
    if (this.#options.now() - counter.since > this.#options.windowMs) {
      this.#counters.delete(key);
      return 0;
    }
    return counter.failures;
  }

  #bump(key: string): void {
    const failures = this.#count(key) + 1;
    const since = this.#counters.get(key)?.since ?? this.#options.now();
    this.#counters.delete(key); // re-insert to keep Map order = recency
    this.#counters.set(key, { failures, since });
    if (this.#counters.size > MAX_ENTRIES) this.#counters.delete(this.#counters.keys().next().value!);
  }
}
