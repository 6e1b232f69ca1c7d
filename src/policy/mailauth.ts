/**
 * Sender authentication of inbound mail through mailauth: SPF, DKIM, DMARC and ARC, returned as
 * the `Received-SPF` and `Authentication-Results` header lines to prepend (RFC 8601).
 */
import type { DnsResolve } from "../net/dns.ts";

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
  /** Add an ARC set (RFC 8617) with this key: the message is about to be forwarded. */
  seal?: { signingDomain: string; selector: string; privateKey: string };
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
}

export async function authenticateMessage(input: AuthenticationInput): Promise<AuthenticationResult> {
  // Loaded on first use: mailauth and its dependencies take a few hundred milliseconds to import.
  const { authenticate } = await import("mailauth");
  const result = await authenticate(Buffer.from(input.raw.buffer, input.raw.byteOffset, input.raw.byteLength), {
    ip: input.ip,
    helo: input.helo,
    sender: input.sender,
    mta: input.hostname,
    resolver: input.resolve as never,
    disableBimi: true,
    ...(input.seal ? { seal: input.seal } : {}),
    // RFC-exact results: a body hash mismatch is dkim=fail (RFC 6376 §6.1.3, RFC 8601 §2.7.1),
    // rsa-sha1 is dkim=policy (RFC 8301), Authentication-Results goes first (RFC 8601 §5).
    strict: true,
  });
  const r = result as unknown as {
    headers: string;
    spf?: { status?: { result?: string } } | false;
    dkim?: { results?: { status?: { result?: string } }[] };
    dmarc?: { status?: { result?: string }; policy?: string; domain?: string } | false;
    arc?: { status?: { result?: string } } | false;
  };
  return {
    headers: r.headers.replace(/\r?\n/g, "\r\n"),
    spf: (r.spf && r.spf.status?.result) || "none",
    dkim: (r.dkim?.results ?? []).map((d) => d.status?.result ?? "none"),
    dmarc: (r.dmarc && r.dmarc.status?.result) || "none",
    dmarcPolicy: (r.dmarc && r.dmarc.policy) || "none",
    dmarcDomain: (r.dmarc && r.dmarc.domain) || null,
    arc: (r.arc && r.arc.status?.result) || "none",
  };
}
