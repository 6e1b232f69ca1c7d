/**
 * The Sender Rewriting Scheme as libsrs2 (postsrsd), Mail::SRS and pysrs write it, so bounces
 * interoperate with them (Shevek, "Sender Rewriting Scheme", the Guarded scheme):
 *
 * - `SRS0=HHHH=TT=host=local@forwarder` for an ordinary sender;
 * - `SRS1=HHHH=first-host==HHHH=TT=host=local@forwarder` when forwarding an SRS0 address again
 *   (the SRS0 address minus its `SRS0` tag is kept opaque, its own separator included);
 * - an SRS1 address forwarded again keeps naming the first hop, with a fresh hash.
 *
 * Only the separator right after the tag may be `=`, `+` or `-`; every later one is `=`, so a
 * host (which may contain `-`) and a hash (base64: `A–Z a–z 0–9 + /`) never need escaping.
 * HHHH is a prefix of the base64 HMAC-SHA1 (keyed by the secret) over the parts, each lower-cased
 * in ASCII; TT is the day number modulo 1024 in two base32 characters.
 */
import { createHmac } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const HASH_LENGTH = 4;
/** The whole base64 HMAC-SHA1: a longer hash (another tool's `hashlength`) is still checked. */
const HASH_MAX = 28;
const SEP = "=";
const DAY = 86_400_000;
const TAG = /^SRS([01])[=+-]/i;

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

/** The parts of an SRS local part, split the way the reference implementations split it. */
export type SrsLocalPart =
  | { tag: 0; hash: string; timestamp: string; host: string; local: string }
  /** `opaque` is the first hop's SRS0 local part without its `SRS0` tag (separator kept). */
  | { tag: 1; hash: string; host: string; opaque: string };

/** Splits an SRS0/SRS1 local part; null when it is not one or a part is missing. */
export function parseSrsLocalPart(localPart: string): SrsLocalPart | null {
  const tag = TAG.exec(localPart);
  if (!tag) return null;
  const rest = localPart.slice(5);
  if (tag[1] === "1") {
    const [hash, host, opaque] = splitLimit(rest, 3);
    if (!hash || !host || !opaque) return null;
    return { tag: 1, hash, host, opaque };
  }
  const [hash, timestamp, host, local] = splitLimit(rest, 4);
  if (!hash || !timestamp || !host || !local) return null;
  return { tag: 0, hash, timestamp, host, local };
}

/** Splits on `=` into at most `count` fields, the last keeping any further separators. */
function splitLimit(s: string, count: number): (string | undefined)[] {
  const out: string[] = [];
  let from = 0;
  while (out.length < count - 1) {
    const at = s.indexOf(SEP, from);
    if (at === -1) break;
    out.push(s.slice(from, at));
    from = at + 1;
  }
  out.push(s.slice(from));
  return out;
}

/** ASCII-only lower case, as libsrs2 (`tolower`), Mail::SRS (`lc` on bytes) and pysrs do. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

export class Srs {
  #options: Required<SrsOptions>;

  constructor(options: SrsOptions) {
    this.#options = { maxAgeDays: 21, now: Date.now, ...options };
  }

  #digest(parts: string[]): string {
    const hmac = createHmac("sha1", this.#options.secret);
    for (const part of parts) hmac.update(asciiLower(part));
    return hmac.digest("base64");
  }

  #hash(...parts: string[]): string {
    return this.#digest(parts).slice(0, HASH_LENGTH);
  }

  /**
   * libsrs2 and Mail::SRS accept any prefix of at least HashMin (4) characters of the full hash,
   * and compare case-insensitively after an exact miss, since relays may smash the case of a
   * local part (RFC 5321 §2.4 says they should not). A case-insensitive compare covers both.
   */
  #verify(hash: string, parts: string[]): boolean {
    if (hash.length < HASH_LENGTH || hash.length > HASH_MAX) return false;
    return asciiLower(this.#digest(parts).slice(0, hash.length)) === asciiLower(hash);
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
    const domain = this.#options.domain;
    if (asciiLower(host) === asciiLower(domain)) return sender; // already ours
    const parsed = parseSrsLocalPart(local);
    if (parsed?.tag === 0 || (!parsed && /^SRS0[=+-]/i.test(local))) {
      // An SRS0 address forwarded again: keep it opaque (minus the tag) and name the host that made it.
      const opaque = local.slice(4);
      return `SRS1=${this.#hash(host, opaque)}${SEP}${host}${SEP}${opaque}@${domain}`;
    }
    if (parsed?.tag === 1) {
      // An SRS1 address forwarded again still names the first hop; only the hash is ours.
      const { host: first, opaque } = parsed;
      return `SRS1=${this.#hash(first, opaque)}${SEP}${first}${SEP}${opaque}@${domain}`;
    }
    const tt = this.#timestamp();
    return `SRS0=${this.#hash(tt, host, local)}${SEP}${tt}${SEP}${host}${SEP}${local}@${domain}`;
  }

  /**
   * A key for another use of the SRS secret (reverse aliases, say), derived with HMAC-SHA256
   * under a label so that no hash made with it can stand for an SRS hash or the other way round.
   */
  deriveKey(purpose: string): Uint8Array {
    return createHmac("sha256", this.#options.secret).update(`postern ${purpose}`).digest();
  }

  /** Whether a local part looks like one of ours (SRS0/SRS1, any separator, any case). */
  static isSrs(address: string): boolean {
    return TAG.test(address);
  }

  /**
   * The address a bounce to one of our SRS addresses goes to: the original sender for SRS0, the
   * first forwarder's SRS0 address for SRS1. Tag, hash and timestamp are compared without regard
   * to case, as libsrs2 does; timestamps older than the maximum age are refused.
   */
  reverse(address: string): SrsReverse {
    const at = address.lastIndexOf("@");
    const localPart = at === -1 ? address : address.slice(0, at);
    if (!Srs.isSrs(localPart)) return { ok: false, reason: "not-srs" };
    const parsed = parseSrsLocalPart(localPart);
    if (!parsed) return { ok: false, reason: "malformed" };
    if (parsed.tag === 1) {
      if (!this.#verify(parsed.hash, [parsed.host, parsed.opaque])) return { ok: false, reason: "bad-hash" };
      return { ok: true, address: `SRS0${parsed.opaque}@${parsed.host}` };
    }
    const { hash, timestamp, host, local } = parsed;
    if (!/^[A-Z2-7]{2}$/i.test(timestamp)) return { ok: false, reason: "malformed" };
    if (!this.#verify(hash, [timestamp, host, local])) return { ok: false, reason: "bad-hash" };
    if (this.#age(timestamp.toUpperCase()) > this.#options.maxAgeDays) return { ok: false, reason: "expired" };
    return { ok: true, address: `${local}@${host}` };
  }

  /** Days since the timestamp, counting modulo 1024 as libsrs2 does. */
  #age(tt: string): number {
    const then = (BASE32.indexOf(tt[0]!) << 5) | BASE32.indexOf(tt[1]!);
    const today = Math.floor(this.#options.now() / DAY) % 1024;
    return (today - then + 1024) % 1024;
  }
}
