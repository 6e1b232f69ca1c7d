/**
 * The Sender Rewriting Scheme in the format of libsrs2 and postsrsd, so addresses interoperate
 * with them: `SRS0=HHHH=TT=domain=local@forwarder` and, when forwarding an SRS0 address again,
 * `SRS1=HHHH=first-forwarder==HHHH=TT=domain=local@forwarder`.
 *
 * HHHH is the first 4 characters of the base64 HMAC-SHA1 (keyed by the secret) over the
 * lower-cased parts; TT is the day number modulo 1024 in two base32 characters.
 */
import { createHmac } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HASH_LENGTH = 4;
const DAY = 86_400_000;

export interface SrsOptions {
  secret: string;
  /** Our domain, the right-hand side of every rewritten address. */
  domain: string;
  /** Days a rewritten address stays valid (libsrs2's maxage; postsrsd uses 21). */
  maxAgeDays?: number;
  now?: () => number;
}

export type SrsReverse = { ok: true; address: string } | {
  ok: false;
  reason: "not-srs" | "bad-hash" | "expired" | "malformed";
};

export class Srs {
  #options: Required<SrsOptions>;

  constructor(options: SrsOptions) {
    this.#options = { maxAgeDays: 21, now: Date.now, ...options };
  }

  #hash(...parts: string[]): string {
    const hmac = createHmac("sha1", this.#options.secret);
    for (const part of parts) hmac.update(part.toLowerCase());
    return hmac.digest("base64").slice(0, HASH_LENGTH);
  }

  #timestamp(now = this.#options.now()): string {
    const day = Math.floor(now / DAY) % 1024;
    return BASE32[(day >> 5) & 31]! + BASE32[day & 31]!;
  }

  /** The envelope sender to use when forwarding mail from `sender`. The null sender stays null. */
  forward(sender: string): string {
    if (sender === "") return "";
    const at = sender.lastIndexOf("@");
    if (at <= 0) return sender;
    const local = sender.slice(0, at);
    const host = sender.slice(at + 1);
    if (host.toLowerCase() === this.#options.domain.toLowerCase()) return sender; // already ours
    const tag = local.slice(0, 5).toUpperCase();
    if (tag === "SRS0=" || tag === "SRS0+" || tag === "SRS0-") {
      // Forwarding an SRS0 address again: keep its opaque part and name the host that made it.
      const opaque = local.slice(4);
      return `SRS1=${this.#hash(host, opaque)}=${host}=${opaque}@${this.#options.domain}`;
    }
    if (tag === "SRS1=" || tag === "SRS1+" || tag === "SRS1-") {
      const m = /^SRS1[=+-][^=+-]+[=+-]([^=+-]+)[=+-](.*)$/i.exec(local);
      if (m) return `SRS1=${this.#hash(m[1]!, m[2]!)}=${m[1]}=${m[2]}@${this.#options.domain}`;
    }
    const tt = this.#timestamp();
    return `SRS0=${this.#hash(tt, host, local)}=${tt}=${host}=${local}@${this.#options.domain}`;
  }

  /** Whether a local part looks like one of ours (SRS0/SRS1, any separator, any case). */
  static isSrs(address: string): boolean {
    return /^SRS[01][=+-]/i.test(address);
  }

  /**
   * The address a bounce to one of our SRS addresses goes to: the original sender for SRS0, the
   * first forwarder's SRS0 address for SRS1. Hash compared case-insensitively (RFC 5321 local
   * parts may be case-folded on the way), timestamps older than the maximum age refused.
   */
  reverse(address: string): SrsReverse {
    const at = address.lastIndexOf("@");
    const local = at === -1 ? address : address.slice(0, at);
    if (!Srs.isSrs(local)) return { ok: false, reason: "not-srs" };
    if (local[3] === "1") {
      const m = /^SRS1[=+-]([^=+-]+)[=+-]([^=+-]+)[=+-](.*)$/i.exec(local);
      if (!m) return { ok: false, reason: "malformed" };
      const [, hash, host, opaque] = m as unknown as [string, string, string, string];
      if (hash.toLowerCase() !== this.#hash(host, opaque).toLowerCase()) return { ok: false, reason: "bad-hash" };
      return { ok: true, address: `SRS0${opaque}@${host}` };
    }
    const m = /^SRS0[=+-]([^=+-]+)[=+-]([^=+-]{2})[=+-]([^=+-]+)[=+-](.+)$/i.exec(local);
    if (!m) return { ok: false, reason: "malformed" };
    const [, hash, tt, host, user] = m as unknown as [string, string, string, string, string];
    if (hash.toLowerCase() !== this.#hash(tt, host, user).toLowerCase()) return { ok: false, reason: "bad-hash" };
    if (this.#age(tt.toUpperCase()) > this.#options.maxAgeDays) return { ok: false, reason: "expired" };
    return { ok: true, address: `${user}@${host}` };
  }

  /** Days since the timestamp, counting modulo 1024 as libsrs2 does. */
  #age(tt: string): number {
    const a = BASE32.indexOf(tt[0]!);
    const b = BASE32.indexOf(tt[1]!);
    if (a < 0 || b < 0) return Number.POSITIVE_INFINITY;
    const then = (a << 5) | b;
    const today = Math.floor(this.#options.now() / DAY) % 1024;
    return (today - then + 1024) % 1024;
  }
}
