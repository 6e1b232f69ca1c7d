/**
 * Sender authentication of inbound mail through mailauth: SPF, DKIM, DMARC and ARC, returned as
 * the `Received-SPF` and `Authentication-Results` header lines to prepend (RFC 8601). Sealing mail that is forwarded
 * comes later (src/forward/arc.ts), once delivery knows which copies leave and as what bytes.
 */
import type { ArcChainState } from "../forward/arc.ts";
import { type DnsResolve, withDeadline } from "../net/dns.ts";
import { count } from "../util/counters.ts";
import { AuthResultCache, LookupRecorder, resultKey } from "./auth-cache.ts";

export interface AuthenticationInput {
  raw: Uint8Array;
  /** The connecting client's IP address. */
  ip: string;
  helo: string;
  /** MAIL FROM; "" for the null sender. */
  sender: string;
  /** Our host name: the authserv-id. */
  hostname: string;
  resolve: DnsResolve;
}

export interface AuthenticationResult {
  /** Header lines ending in CRLF, to prepend to the message. */
  headers: string;
  spf: string;
  dkim: string[];
  dmarc: string;
  /** The published policy of the author's domain (p= or sp=): "reject", "quarantine" or "none". */
  dmarcPolicy: string;
  dmarcDomain: string | null;
  arc: string;
  /**
   * What an ARC seal of this hop would record (src/forward/arc.ts), or null when the chain must not be sealed again
   * (RFC 8617 §5.1: a chain that failed is not extended).
   */
  arcChain: ArcChainState | null;
}

/** The deadline of a resolver that does not say its own timeout (the `dns.timeout` default). */
const DNS_DEADLINE_MS = 2000;

/** Header fields whose checks read the body (RFC 6376 §3.7 body hash, RFC 8617 §4.1.2 AMS). */
const SIGNED = /^(?:dkim-signature|arc-message-signature|arc-seal):/im;

/** Kept results of unsigned messages (src/policy/auth-cache.ts), per resolver: their lifetimes come from its cache. */
const kept = new WeakMap<DnsResolve, AuthResultCache<AuthenticationResult>>();

export async function authenticateMessage(input: AuthenticationInput): Promise<AuthenticationResult> {
  const whole = Buffer.from(input.raw.buffer, input.raw.byteOffset, input.raw.byteLength);
  const end = whole.indexOf("\r\n\r\n");
  const header = end < 0 ? null : whole.subarray(0, end + 4);
  const headerText = header?.toString("latin1");
  // What mailauth needs to read. Without a DKIM or ARC signature nothing it checks depends on the body (SPF reads
  // the envelope, DMARC the From field and the other results), so an unsigned message is checked by its header
  // alone and a large body costs nothing.
  const part = header && !SIGNED.test(headerText!) ? header : whole;
  const key = headerText === undefined ? null : resultKey({ ...input, header: headerText });
  let cache = kept.get(input.resolve);
  if (!cache) kept.set(input.resolve, cache = new AuthResultCache());
  const hit = key === null ? undefined : cache.get(key);
  count("postern_sender_checks_total", { source: hit ? "kept" : "checked" });
  if (hit) return hit;
  const recorder = new LookupRecorder(input.resolve);
  const deadline = withDeadline(input.resolve, input.resolve.timeoutMs ?? DNS_DEADLINE_MS);
  const result = await check(part, input, recorder.wrap(deadline));
  const until = key === null ? null : recorder.keptUntil();
  if (until !== null) cache.set(key!, result, until);
  return result;
}

async function check(part: Buffer, input: AuthenticationInput, resolver: DnsResolve): Promise<AuthenticationResult> {
  // Loaded on first use: mailauth and its dependencies take a few hundred milliseconds to import.
  const { authenticate } = await import("mailauth");
  const result = await authenticate(part, {
    ip: input.ip,
    helo: input.helo,
    sender: input.sender,
    mta: input.hostname,
    // Issue 18: every lookup of this message ends by one deadline, dns.timeout from now; one that
    // does not answer by then is a temperror (RFC 7208 §2.6.6, RFC 7489 §6.6.3), never a longer wait.
    resolver: resolver as never,
    disableBimi: true,
    // RFC-exact results: a body hash mismatch is dkim=fail (RFC 6376 §6.1.3, RFC 8601 §2.7.1),
    // rsa-sha1 is dkim=policy (RFC 8301), Authentication-Results goes first (RFC 8601 §5).
    strict: true,
  });
  const r = result as unknown as {
    headers: string;
    spf?: { status?: { result?: string } } | false;
    dkim?: { results?: { status?: { result?: string } }[] };
    dmarc?: { status?: { result?: string }; policy?: string; domain?: string } | false;
    arc?: { status?: { result?: string; shouldSeal?: boolean }; authResults?: string } | false;
  };
  const arc = (r.arc && r.arc.status?.result) || "none";
  // RFC 8617 §5.1 (mailauth's own rule): seal a chain that passed or is absent, or one that failed at our hop
  // (shouldSeal), recording cv=fail.
  const sealable = r.arc && (arc === "none" || arc === "pass" || r.arc.status?.shouldSeal === true);
  const cv = arc === "none" || arc === "pass" ? arc : "fail";
  return {
    headers: r.headers.replace(/\r?\n/g, "\r\n"),
    spf: (r.spf && r.spf.status?.result) || "none",
    dkim: (r.dkim?.results ?? []).map((d) => d.status?.result ?? "none"),
    dmarc: (r.dmarc && r.dmarc.status?.result) || "none",
    dmarcPolicy: (r.dmarc && r.dmarc.policy) || "none",
    dmarcDomain: (r.dmarc && r.dmarc.domain) || null,
    arc,
    arcChain: sealable && r.arc && r.arc.authResults ? { cv, authResults: r.arc.authResults } : null,
  };
}
