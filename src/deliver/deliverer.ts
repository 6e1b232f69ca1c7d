/**
 * Delivery of an accepted message: sender authentication for inbound mail, the MIME summary,
 * routing of every recipient (local INBOX, alias expansion, outbound queue), and one transaction
 * that stores the blob once, a row per local mailbox and the queue rows. Nothing is acknowledged
 * to the client before that transaction commits.
 */
import { type ArcChainState, type ArcKey, arcSet } from "../forward/arc.ts";
import type { Srs } from "../forward/srs.ts";
import { isWebhookUrl } from "../forward/webhook-target.ts";
import type { DnsResolve } from "../net/dns.ts";
import { authenticateMessage } from "../policy/mailauth.ts";
import { log } from "../util/log.ts";
import { type MessageSummary, summarize } from "../mime/summary.ts";
import { sha256Hex } from "../store/append.ts";
import type { Store } from "../store/store.ts";
import type { Directory } from "./directory.ts";
import { aliasReplies, reverseReplyToCopies } from "./reverse.ts";
import { route } from "./route.ts";
import { sieveFilings } from "./sieve.ts";

export interface EnvelopeRecipient {
  address: string;
  /** RFC 3461 NOTIFY values and ORCPT, kept for the queue's DSNs. */
  notify?: string[];
  orcpt?: string;
}

export interface AcceptedMessage {
  /** MAIL FROM; "" for the null sender. */
  sender: string;
  recipients: EnvelopeRecipient[];
  envid?: string;
  ret?: "FULL" | "HDRS";
  /** Policy said junk: local copies go to the Junk mailbox rather than INBOX. */
  junk?: boolean;
  /** The message as it will be stored, trace headers (Received) already prepended. */
  raw: Uint8Array;
  /** Set for submissions: the authenticated account, by id and address. */
  accountId?: number;
  authenticatedAs?: string;
  /** Inbound mail from other servers gets SPF/DKIM/DMARC/ARC checks. */
  inbound: boolean;
  remoteIp: string;
  helo: string;
  /** The policy verdict's header lines (spam score, virus scan), for Sieve's spamtest and virustest (RFC 5235). */
  policyHeaders?: readonly string[];
}

/** Delivery refused before anything was stored (DMARC enforcement); the SMTP reply to give. */
export class DeliveryRefused extends Error {
  constructor(
    readonly code: number,
    readonly enhanced: string,
    message: string,
    /** The reply's lines when there are several (a Sieve reject's reason, RFC 5429 §2.1.1). */
    readonly lines?: string[],
  ) {
    super(message);
    this.name = "DeliveryRefused";
  }
}

export interface DeliveryReport {
  /** Local mailbox rows written. */
  stored: number;
  /** Outbound queue id when some recipients are remote. */
  queueId?: number;
  blobHash: string;
  /** For the log: "spf=pass dkim=pass dmarc=pass" for inbound mail, "auth=pass" for submissions. */
  authResults?: string;
}

/** What an embedding program's `onMessage` hears after a message is committed. */
export interface DeliveredMessage {
  sender: string;
  recipients: string[];
  /** The local copies: the account's address and where the message landed. */
  stored: { address: string; mailboxId: number; uid: number }[];
  /** Recipients handed to the outbound queue (remote, or forwarded with SRS). */
  queued: string[];
  /** The message as stored, with the headers Postern added. */
  raw: Uint8Array;
  summary: MessageSummary;
  inbound: boolean;
  authenticatedAs?: string;
}

export class Deliverer {
  constructor(
    private readonly store: Store,
    private readonly directory: Directory,
    private readonly options: {
      hostname: string;
      resolve: DnsResolve;
      onQueued?: () => void;
      srs?: Srs;
      arcKey?: () => ArcKey | undefined;
      /** policy.dmarc.enforce */
      dmarcEnforce?: boolean;
      /** Called after the commit, never awaited: it cannot delay or fail the reply. */
      onDelivered?: (message: DeliveredMessage) => void | Promise<void>;
      /** Sieve at delivery: the subaddress separator (delivery.recipientDelimiter) and sieve.globalDir. */
      sieve?: { separator?: string; globalDir?: string };
    },
  ) {}

  async deliver(accepted: AcceptedMessage): Promise<DeliveryReport> {
    let message = accepted;
    let raw = message.raw;
    let authResults: string | undefined;
    /** What our ARC seal records, for inbound mail that leaves again as a forward (src/forward/arc.ts). */
    let arcChain: ArcChainState | null = null;
    let routing = await route(this.directory, message.recipients);
    if (message.inbound) {
      const auth = await authenticateMessage({
        raw,
        ip: message.remoteIp,
        helo: message.helo,
        sender: message.sender,
        hostname: this.options.hostname,
        resolve: this.options.resolve,
      });
      arcChain = auth.arcChain;
      raw = prepend(auth.headers, raw);
      authResults = `spf=${auth.spf} dkim=${auth.dkim.join(",") || "none"} dmarc=${auth.dmarc}`;
      // RFC 7489 §6.6.2: with enforcement on, a failing message follows its domain's policy.
      if (this.options.dmarcEnforce && auth.dmarc === "fail") {
        if (auth.dmarcPolicy === "reject") {
          throw new DeliveryRefused(
            550,
            "5.7.1",
            `DMARC policy of ${auth.dmarcDomain ?? "the sender's domain"} says reject`,
          );
        }
        if (auth.dmarcPolicy === "quarantine") message = { ...message, junk: true };
      }
    } else if (message.authenticatedAs) {
      authResults = "auth=pass";
      // RFC 8601 §2.7.4: record who submitted the message.
      raw = prepend(
        `Authentication-Results: ${this.options.hostname}; auth=pass smtp.auth=${message.authenticatedAs}\r\n`,
        raw,
      );
    }
    // Junk is not forwarded (issue 19): it would spend the forwarder's reputation. Mail only for
    // aliases that lead elsewhere is refused; beside local recipients, those get it in Junk alone.
    if (message.junk && routing.forwarded.length > 0) {
      if (routing.local.length === 0 && routing.remote.length === 0) {
        throw new DeliveryRefused(550, "5.7.1", "Message classified as junk; it is not forwarded");
      }
      log.info("junk not forwarded", { recipients: routing.forwarded.map((r) => r.address) });
      routing = { ...routing, forwarded: [] };
    }
    // Forwarded mail leaves with an SRS sender so SPF still passes at the next hop; the null
    // sender is never rewritten (Srs.forward keeps it empty). A webhook is no next hop that checks
    // SPF: it is queued with the original sender, which its payload reports (issue 19, bug 2).
    const srs = this.options.srs;
    const webhooks = routing.forwarded.filter((r) => isWebhookUrl(r.address));
    const forwarded = routing.forwarded.filter((r) => !isWebhookUrl(r.address));
    // Issue 21: each local account's active Sieve script decides where its copy goes.
    const outcome = await sieveFilings(this.store, this.directory, routing.local, { ...message, raw }, {
      ...this.options.sieve,
      hostname: this.options.hostname,
      policyHeaders: message.policyHeaders,
      // RFC 5429 §2.1.1: a reject is the DATA reply while the message is this one recipient's alone.
      smtpReject: message.recipients.length === 1 && routing.local.length === 1 && routing.remote.length === 0 &&
        routing.forwarded.length === 0 && routing.replies.length === 0,
    });
    if (outcome.refusal) throw new DeliveryRefused(550, "5.7.1", outcome.refusal.join(" "), outcome.refusal);
    const { filings: sieve, replies: sieveReplies } = outcome;
    const redirects = outcome.redirects.flatMap((r) => r.addresses);
    // RFC 8617: mail that leaves as a forward (an alias's target or a Sieve redirect, RFC 5228 §4.2) carries our ARC
    // seal, so a receiver that trusts us can still pass DMARC. One rule for both, applied to the bytes that leave:
    // the message as stored, or a redirected copy that editheader changed.
    if (routing.forwarded.length > 0 || outcome.redirects.some((r) => !r.raw)) raw = await this.#sealed(raw, arcChain);
    const sieveRedirects = await Promise.all(
      outcome.redirects.map(async (r) => (r.raw ? { ...r, raw: await this.#sealed(r.raw, arcChain) } : r)),
    );
    const summary = await summarize(raw);
    const queued = {
      envid: message.envid,
      ret: message.ret,
      accountId: message.accountId,
    };
    // Reverse aliases (issue 19): only an owner of the alias writes through its reverse address.
    const replies = aliasReplies(routing.replies, { ...message, raw }, queued);
    if (!replies.ok) {
      throw new DeliveryRefused(550, "5.7.1", `Only the owner of ${replies.alias} may write to its reverse addresses`);
    }
    const copies = this.directory.reverse
      ? await reverseReplyToCopies(this.store, this.directory.reverse, routing.local, raw, message.sender)
      : new Map();

    const result = await this.store.mail.deliver({
      raw,
      summary,
      sieve,
      sieveRecords: outcome.records,
      local: routing.local.map((target) => ({
        accountId: target.accountId,
        junk: message.junk === true,
        copy: target.via ? copies.get(target.via) : undefined,
      })),
      queue: [
        { ...queued, sender: message.sender, recipients: routing.remote },
        { ...queued, sender: srs ? srs.forward(message.sender) : message.sender, recipients: forwarded },
        { ...queued, sender: message.sender, recipients: webhooks },
        // Sieve redirects (RFC 5228 §4.2) leave like forwarded mail; the hop limit stops loops.
        ...sieveRedirects.map((r) => ({
          ...queued,
          sender: srs ? srs.forward(message.sender) : message.sender,
          recipients: r.addresses.map((address) => ({ address })),
          ...(r.raw ? { raw: r.raw } : {}),
        })),
        ...sieveReplies,
        ...replies.entries,
      ],
    });
    const report = {
      appended: result.stored,
      queueId: result.queueIds.at(-1),
      blobHash: result.stored[0]?.blobHash ?? sha256Hex(raw),
    };
    if (report.queueId !== undefined) this.options.onQueued?.();
    await this.#count(routing.aliases, replies.tokens);
    if (this.options.onDelivered) {
      const event: DeliveredMessage = {
        sender: message.sender,
        recipients: message.recipients.map((r) => r.address),
        raw,
        summary,
        inbound: message.inbound,
        authenticatedAs: message.authenticatedAs,
        // A Sieve script may file one copy in several mailboxes, or none.
        stored: report.appended.map((a) => ({
          address: routing.local.find((t) => t.accountId === a.accountId)?.address ?? "",
          mailboxId: a.mailboxId,
          uid: a.uid,
        })),
        queued: [
          ...[...routing.remote, ...routing.forwarded, ...routing.replies.map((r) => ({ address: r.correspondent }))]
            .map((r) => r.address),
          ...redirects,
        ],
      };
      const onDelivered = this.options.onDelivered;
      // Not awaited: after the commit, it cannot delay or fail the reply; a throw is logged.
      void Promise.resolve()
        .then(() => onDelivered(event))
        .catch((e: unknown) => log.warn("onMessage failed", { error: (e as Error).message }));
    }
    return { stored: report.appended.length, queueId: report.queueId, blobHash: report.blobHash, authResults };
  }

  /** `raw` with this hop's ARC set on top; unchanged for mail that was not verified here or without a key. */
  async #sealed(raw: Uint8Array, chain: ArcChainState | null): Promise<Uint8Array> {
    const key = chain ? this.options.arcKey?.() : undefined;
    if (!chain || !key) return raw;
    const set = await arcSet(raw, chain, key);
    return set ? prepend(set, raw) : raw;
  }

  /** The aliases' counters, after the commit; a failure is logged, never the delivery's. */
  async #count(aliases: { used: string[]; dropped: string[] }, reverseTokens: string[]): Promise<void> {
    try {
      await this.store.aliases.recordUse(aliases.used, "forwarded");
      await this.store.aliases.recordUse(aliases.dropped, "refused");
      await this.store.aliases.reverse.recordUse(reverseTokens);
    } catch (e) {
      log.warn("alias counters not updated", { error: (e as Error).message });
    }
  }
}

function prepend(header: string, raw: Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(head.byteLength + raw.byteLength);
  out.set(head, 0);
  out.set(raw, head.byteLength);
  return out;
}
