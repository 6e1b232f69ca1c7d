/**
 * Webhook targets: the message POSTed as JSON (envelope, the message parsed by postal-mime, and
 * the raw bytes in base64), signed with HMAC-SHA256 so the receiver can check it came from us:
 * `Postern-Signature: t=<unix seconds>,v1=<hex HMAC of "<t>.<body>">` (the timestamp bounds
 * replays). 2xx is delivered; a redirect is not followed and bounces; anything else is retried
 * through the queue. Plain `http://` goes only to loopback hosts unless `allowHttp`
 * (webhooks.allowHttp) says anywhere; a private address only where `outbound.allowPrivateTargets`
 * allows it (src/net/outbound-url.ts).
 */
import { createHmac } from "node:crypto";
import { webhookRefusal } from "../forward/webhook-target.ts";
import { checkOutboundUrl, type OutboundPolicy, postToTarget } from "../net/outbound-url.ts";
import PostalMime from "postal-mime";

export interface WebhookOptions {
  secret?: string;
  /** Extra trusted CA certificates (PEM). */
  ca?: string;
  timeoutMs: number;
  /** Plain http:// to any host, not only loopback (webhooks.allowHttp). */
  allowHttp?: boolean;
  /** Which private addresses may be contacted, and the resolver (outbound.allowPrivateTargets, dns.servers). */
  outbound?: OutboundPolicy;
  now?: () => number;
}

export interface WebhookPayload {
  /**
   * `from` is the original envelope sender ("" for the null sender), `to` the address the mail
   * was sent to; `srsFrom` is the SRS address a forwarded copy of the mail would carry, when SRS
   * is configured.
   */
  envelope: { from: string; to: string; srsFrom?: string };
  raw: Uint8Array;
}

export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export async function webhookBody(payload: WebhookPayload): Promise<string> {
  const email = await PostalMime.parse(payload.raw);
  return JSON.stringify({
    envelope: payload.envelope,
    message: {
      messageId: email.messageId ?? null,
      date: email.date ?? null,
      subject: email.subject ?? null,
      from: email.from ?? null,
      to: email.to ?? [],
      cc: email.cc ?? [],
      text: email.text ?? null,
      html: email.html ?? null,
      attachments: email.attachments.map((a) => ({
        filename: a.filename,
        mimeType: a.mimeType,
        size: typeof a.content === "string" ? a.content.length : a.content.byteLength,
      })),
    },
    raw: Buffer.from(payload.raw).toString("base64"),
  });
}

/** POSTs the payload; resolves to an SMTP-like reply so the queue can treat it as any delivery. */
export async function postWebhook(
  url: string,
  payload: WebhookPayload,
  options: WebhookOptions,
): Promise<{ code: number; enhanced: string; text: string }> {
  // Permanent: retrying will not make a refused URL acceptable; the sender gets a DSN saying why.
  const refusal = webhookRefusal(url, { allowHttp: options.allowHttp });
  if (refusal) return { code: 550, enhanced: "5.7.1", text: refusal };
  const target = await checkOutboundUrl(url, options.outbound);
  if ("refusal" in target) {
    return target.temporary
      ? { code: 451, enhanced: "4.4.3", text: target.refusal }
      : { code: 550, enhanced: "5.7.1", text: target.refusal };
  }
  const body = await webhookBody(payload);
  const timestamp = Math.floor((options.now ?? Date.now)() / 1000);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "content-length": String(Buffer.byteLength(body)),
    "user-agent": "Postern",
  };
  if (options.secret) headers["postern-signature"] = signWebhook(options.secret, timestamp, body);
  try {
    const status = await postToTarget(target, { headers, body, ca: options.ca, timeoutMs: options.timeoutMs });
    if (status >= 200 && status < 300) return { code: 250, enhanced: "2.0.0", text: `webhook answered ${status}` };
    // Never followed: a redirect could lead anywhere, a private address included.
    if (status >= 300 && status < 400) {
      return { code: 550, enhanced: "5.7.1", text: `webhook answered ${status}; redirects are not followed` };
    }
    return { code: 451, enhanced: "4.4.0", text: `webhook answered ${status}` };
  } catch (e) {
    return { code: 451, enhanced: "4.4.1", text: `webhook failed: ${(e as Error).message}` };
  }
}
