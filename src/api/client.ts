/**
 * Who is on the other end of an HTTP request, and what it may send: the client's address for the login throttle,
 * and request bodies read with a limit.
 *
 * The address is the socket's peer (passed by src/net/http.ts as the app's environment). `X-Forwarded-For` and
 * `Forwarded` (RFC 7239) are honoured only when that peer is one of `api.trustedProxies`: otherwise any client
 * could pick a new address per request and dodge the throttle, or all share one counter.
 */
import type { BlockList } from "node:net";
import type { Context } from "hono";
import { listHas } from "../util/ip-list.ts";
import { Spool } from "../util/spool.ts";

/** What src/net/http.ts gives every request. */
export interface HttpEnv {
  remoteAddress: string;
}

/** The client's address: the peer, or, behind a trusted proxy, the nearest address the proxies did not add. */
export function clientAddress(c: Context, trustedProxies: BlockList | null): string {
  const peer = (c.env as HttpEnv | undefined)?.remoteAddress || "unknown";
  if (!trustedProxies || !listHas(trustedProxies, peer)) return peer;
  const chain = forwardedChain(c.req.header("forwarded"), c.req.header("x-forwarded-for"));
  // Right to left: each trusted proxy appended the address it saw; the first untrusted one is the client.
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!listHas(trustedProxies, chain[i]!)) return chain[i]!;
  }
  return chain[0] ?? peer;
}

/** The addresses a request passed through, oldest first; only syntactically valid IPs count. */
function forwardedChain(forwarded: string | undefined, xff: string | undefined): string[] {
  if (forwarded) {
    // RFC 7239 §4: `for=192.0.2.1`, `for="[2001:db8::1]:4711"`, elements separated by commas.
    return forwarded.split(",").flatMap((element) => {
      const m = /(?:^|;)\s*for=("?)\[?([0-9a-fA-F:.]+?)\]?(?::\d+)?\1\s*(?:;|$)/i.exec(element);
      return m && isIp(m[2]!) ? [m[2]!] : [];
    });
  }
  return (xff ?? "").split(",").map((a) => a.trim()).filter(isIp);
}

function isIp(text: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(text) || (/^[0-9a-fA-F:.]+$/.test(text) && text.includes(":"));
}

/**
 * The request body, read only up to `limit` bytes: a larger `Content-Length` is refused before anything is read,
 * and a body that grows past the limit (chunked, or lying about its length) is cut off there. With `spoolDir`,
 * the bytes wait in a spool (src/util/spool.ts) while they arrive, so a request holds little memory until it is
 * complete and within the limit.
 */
export async function readBody(c: Context, limit: number, spoolDir?: string): Promise<Uint8Array | "too-large"> {
  const declared = Number(c.req.header("content-length") ?? NaN);
  if (declared > limit) return "too-large";
  const body = c.req.raw.body;
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const spool = new Spool({ dir: spoolDir });
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return await spool.bytes();
      if (spool.size + value.byteLength > limit) {
        await reader.cancel().catch(() => {});
        return "too-large";
      }
      await spool.write(value);
    }
  } finally {
    await spool.discard();
  }
}
