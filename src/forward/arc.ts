/**
 * ARC sealing (RFC 8617) of mail that leaves this server as a forward: an alias's forward target or a Sieve redirect
 * (issue 21). The seal records what this hop verified (the chain's state and our Authentication-Results), so a
 * receiver that trusts us can still pass DMARC although the forward broke SPF and perhaps DKIM.
 */
import { log } from "../util/log.ts";

export interface ArcKey {
  signingDomain: string;
  selector: string;
  privateKey: string;
}

/** What this hop found, from the verification of the message as it arrived (src/policy/mailauth.ts). */
export interface ArcChainState {
  /** RFC 8617 §4.1.3: the chain validation status recorded in the new ARC-Seal. */
  cv: "none" | "pass" | "fail";
  /** The value of our Authentication-Results field, repeated in ARC-Authentication-Results (§4.1.1). */
  authResults: string;
}

/**
 * The ARC set to prepend to `raw` (header lines ending in CRLF), or "" when the message cannot be sealed: no key, a
 * chain that is already full or failed (RFC 8617 §5.1), or a key that does not sign. The caller prepends it to the
 * exact bytes it sends: the ARC-Message-Signature covers them (§4.1.2).
 */
export async function arcSet(raw: Uint8Array, chain: ArcChainState, key: ArcKey): Promise<string> {
  // Loaded on first use, like src/policy/mailauth.ts.
  const { createSeal } = await import("mailauth");
  const input = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
  const sealed = await createSeal(input, {
    seal: { ...key, cv: chain.cv, authResults: chain.authResults, signTime: new Date() },
    strict: true,
  } as never);
  if (!sealed.headers.length) {
    const reasons = sealed.errors.map((e) => (e as { err?: Error }).err?.message ?? String(e));
    log.warn("message forwarded without an ARC seal", { reason: reasons.join("; ") || "unknown" });
    return "";
  }
  return sealed.headers.join("\r\n").replace(/\r?\n/g, "\r\n") + "\r\n";
}
