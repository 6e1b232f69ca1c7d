/**
 * The queue's transports: one attempt at handing a message to a destination, answering with a
 * reply per recipient. A domain is reached over SMTP through its route (transport map, smart
 * host or MX records), a webhook target by an HTTPS POST. Nothing here touches the store: the
 * runner decides what the replies mean.
 */
import type { Srs } from "../forward/srs.ts";
import { isWebhookUrl } from "../forward/webhook-target.ts";
import type { DnsResolve } from "../net/dns.ts";
import { dial } from "../net/dial.ts";
import { type ClientReply, deliverMessage, TLS_FAILED } from "../smtp/client.ts";
import { type Hop, routeFor } from "./route.ts";
import { postWebhook, type WebhookOptions } from "./webhook.ts";

export interface TransportOptions {
  hostname: string;
  resolve: DnsResolve;
  transport: Record<string, string>;
  relayHost?: string;
  relayAuth?: { username: string; password: string };
  requireTls: boolean;
  mxPort?: number;
  webhooks?: WebhookOptions;
  /** For webhook payloads: the SRS address beside the original sender. */
  srs?: Srs;
  /** DKIM-signs a message leaving for a domain's recipients, or returns it as it is. */
  sign?: (raw: Uint8Array, sender: string) => Promise<Uint8Array>;
}

/** The envelope as queued (RFC 3461 ENVID and RET included). */
export interface Envelope {
  sender: string;
  envid: string | null;
  ret: "FULL" | "HDRS" | null;
}

export interface TransportRecipient {
  recipient: string;
  /** RFC 3461 NOTIFY, comma-separated, and ORCPT ("rfc822;addr"). */
  notify: string | null;
  orcpt: string | null;
}

export interface RecipientReply {
  reply: ClientReply;
  /** The server that answered, when one did (the DSN's Remote-MTA). */
  mta?: string;
  /** Where the attempt went, for the log in Postfix's shape: `host[ip]:port`, or the webhook's host. */
  relay?: string;
}

/** Whether a queued recipient is a webhook target rather than a mail address. */
export function isWebhook(recipient: string): boolean {
  return isWebhookUrl(recipient);
}

/** Where a recipient goes: the webhook URL itself, or the domain of the address (lower case). */
export function destinationOf(recipient: string): string {
  return isWebhook(recipient) ? recipient : recipient.slice(recipient.lastIndexOf("@") + 1).toLowerCase();
}

export class Transport {
  readonly #options: TransportOptions;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  /**
   * One attempt for recipients sharing a destination (see `destinationOf`); the replies come in
   * the recipients' order. Throws only on an unexpected failure (a signing error, say).
   */
  send(
    destination: string,
    envelope: Envelope,
    recipients: readonly TransportRecipient[],
    raw: Uint8Array,
  ): Promise<RecipientReply[]> {
    return isWebhook(destination)
      ? this.#webhook(envelope, recipients, raw)
      : this.#smtp(destination, envelope, recipients, raw);
  }

  async #webhook(
    envelope: Envelope,
    recipients: readonly TransportRecipient[],
    raw: Uint8Array,
  ): Promise<RecipientReply[]> {
    const replies: RecipientReply[] = [];
    for (const r of recipients) {
      // The address the mail was sent to (ORCPT), not the URL it was forwarded to.
      const to = r.orcpt?.replace(/^rfc822;/i, "") ?? r.recipient;
      // Queued with the original sender (issue 19, bug 2); the SRS address goes beside it.
      const srsFrom = envelope.sender && this.#options.srs ? this.#options.srs.forward(envelope.sender) : undefined;
      const reply = await postWebhook(
        r.recipient,
        { envelope: { from: envelope.sender, to, ...(srsFrom ? { srsFrom } : {}) }, raw },
        this.#options.webhooks ?? { timeoutMs: 30_000 },
      );
      replies.push({ reply, mta: new URL(r.recipient).host, relay: new URL(r.recipient).host });
    }
    return replies;
  }

  async #smtp(
    domain: string,
    envelope: Envelope,
    recipients: readonly TransportRecipient[],
    raw: Uint8Array,
  ): Promise<RecipientReply[]> {
    const route = await routeFor(domain, {
      transport: this.#options.transport,
      relayHost: this.#options.relayHost,
      resolve: this.#options.resolve,
      mxPort: this.#options.mxPort,
    });
    if (route.kind !== "hops") {
      const reply = route.kind === "fail"
        ? { code: route.code, enhanced: route.enhanced, text: route.text }
        : { code: 451, enhanced: "4.4.3", text: route.text };
      return recipients.map(() => ({ reply }));
    }
    const content = this.#options.sign ? await this.#options.sign(raw, envelope.sender) : raw;
    let last: ClientReply = { code: 451, enhanced: "4.4.1", text: "No destination answered" };
    let lastRelay: string | undefined;
    for (const hop of route.hops) {
      let replies: RecipientReply[] | undefined;
      // Opportunistic TLS (RFC 3207 §4.1): a hop whose handshake fails is tried again in clear.
      for (const skipTls of this.#options.requireTls ? [false] : [false, true]) {
        const attempt = await this.#hop(hop, envelope, recipients, content, route.relay, skipTls);
        lastRelay = attempt.relay;
        if ("unreachable" in attempt) {
          last = attempt.unreachable;
          break;
        }
        replies = attempt.replies;
        if (!replies[0]!.reply.text.startsWith(TLS_FAILED)) break;
      }
      // RFC 5321 §5.1: try the next MX only when this one failed temporarily for everyone.
      if (replies?.some(({ reply }) => reply.code < 400 || reply.code >= 500)) return replies;
      if (replies) last = replies[0]!.reply;
    }
    return recipients.map(() => ({ reply: last, relay: lastRelay }));
  }

  /** One SMTP session with one hop; a connection that cannot be made is a reply of its own. */
  async #hop(
    hop: Hop,
    envelope: Envelope,
    recipients: readonly TransportRecipient[],
    content: Uint8Array,
    relay: boolean,
    skipTls: boolean,
  ): Promise<({ replies: RecipientReply[] } | { unreachable: ClientReply }) & { relay: string }> {
    let conn;
    let where = `${hop.host}[]:${hop.port}`;
    try {
      const address = await this.#address(hop.host);
      where = `${hop.host}[${address}]:${hop.port}`;
      conn = await dial({
        host: address,
        port: hop.port,
        servername: hop.host,
        verifyTls: false,
        connectTimeoutMs: 30_000,
        idleTimeoutMs: 300_000,
      });
    } catch (e) {
      return {
        relay: where,
        unreachable: {
          code: 451,
          enhanced: "4.4.1",
          text: `Cannot connect to ${hop.host}:${hop.port}: ${(e as Error).message}`,
        },
      };
    }
    try {
      const result = await deliverMessage(
        conn,
        {
          sender: envelope.sender,
          recipients: recipients.map((r) => ({
            address: r.recipient,
            notify: r.notify?.split(","),
            orcpt: r.orcpt ?? undefined,
          })),
          content,
          envid: envelope.envid ?? undefined,
          ret: envelope.ret ?? undefined,
        },
        {
          helo: this.#options.hostname,
          requireTls: this.#options.requireTls,
          auth: relay ? this.#options.relayAuth : undefined,
          skipTls,
        },
      );
      return {
        relay: where,
        replies: recipients.map((_r, i) => ({ reply: result.recipients[i]!.reply, mta: hop.host, relay: where })),
      };
    } finally {
      conn.close();
    }
  }

  async #address(host: string): Promise<string> {
    if (/^[\d.]+$/.test(host) || host.includes(":")) return host;
    try {
      const a = (await this.#options.resolve(host, "A")) as string[];
      if (a.length) return a[0]!;
    } catch {
      // fall through to AAAA
    }
    const aaaa = (await this.#options.resolve(host, "AAAA")) as string[];
    return aaaa[0]!;
  }
}
