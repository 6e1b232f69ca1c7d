/**
 * Verified credentials, remembered for a few minutes so that a client logging in again does not
 * pay for scrypt each time (Dovecot's `auth_cache`). An entry is keyed by an HMAC of the account
 * name and password under a random key of this process, so the map holds no password and no
 * hash that could be attacked offline; it remembers the stored password hash it was checked
 * against.
 *
 * The caller reads the account row on every login and passes its current hash: a cached
 * verification counts only if that hash is still the one the entry was checked against. A
 * password changed by any process (`postern user passwd`, another `serve` on the same database)
 * is a new hash with a new salt, so it is refused at once everywhere without an invalidation
 * message. Failures are never remembered: every wrong password costs a full scrypt.
 */
import { createHmac, randomBytes } from "node:crypto";
import { verifyPassword } from "./password.ts";

/** Checks a password against a stored hash: scrypt (`verifyPassword`) in production. */
export type PasswordVerifier = (password: string, storedHash: string) => Promise<boolean>;

export interface CredentialCacheOptions {
  /** How long a verification is trusted; from the scrypt check, not renewed by hits. */
  ttlMs?: number;
  /** Entries kept at most; the oldest are dropped first. */
  maxEntries?: number;
  now?: () => number;
  verify?: PasswordVerifier;
}

interface Entry {
  storedHash: string;
  expires: number;
}

export class CredentialCache {
  readonly #key = randomBytes(32);
  /** Insertion order is verification order, so the first entries expire first. */
  readonly #entries = new Map<string, Entry>();
  /** Checks running now, so simultaneous first logins of one account share one scrypt. */
  readonly #running = new Map<string, Promise<boolean>>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #verify: PasswordVerifier;
  /** Answers from the cache, and checks that ran the verifier. */
  readonly stats = { hits: 0, verified: 0 };

  constructor(options: CredentialCacheOptions = {}) {
    this.#ttlMs = options.ttlMs ?? 5 * 60_000;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#verify = options.verify ?? verifyPassword;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * Whether `password` is the password of account `name`, whose stored hash is `storedHash` as
   * read from the database for this login.
   */
  check(name: string, password: string, storedHash: string): Promise<boolean> {
    const id = this.#id(name, password);
    const entry = this.#entries.get(id);
    if (entry) {
      if (entry.storedHash === storedHash && this.#now() < entry.expires) {
        this.stats.hits++;
        return Promise.resolve(true);
      }
      // Expired, or verified against a hash the account no longer has: never useful again.
      this.#entries.delete(id);
    }
    // Joining only a check against the same hash: one against an older hash proves nothing now.
    const flight = `${id}$${storedHash}`;
    let running = this.#running.get(flight);
    if (!running) {
      running = this.#run(id, password, storedHash).finally(() => this.#running.delete(flight));
      this.#running.set(flight, running);
    }
    return running;
  }

  async #run(id: string, password: string, storedHash: string): Promise<boolean> {
    this.stats.verified++;
    const ok = await this.#verify(password, storedHash);
    if (!ok) return false;
    const now = this.#now();
    this.#entries.delete(id); // re-inserted at the end, where the newest belong
    this.#entries.set(id, { storedHash, expires: now + this.#ttlMs });
    for (const [oldest, { expires }] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && expires > now) break;
      this.#entries.delete(oldest);
    }
    return true;
  }

  /** The length prefix keeps ("ab", "c") and ("a", "bc") apart. */
  #id(name: string, password: string): string {
    return createHmac("sha256", this.#key).update(`${name.length}:${name}${password}`).digest("base64");
  }
}
