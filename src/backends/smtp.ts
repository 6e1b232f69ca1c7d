/**
 * The SMTP session's backend over the store: password checks with throttling, recipient and
 * sender policy, and delivery through the `Deliverer`.
 */
import type { Banned } from "../auth/login.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import { checkPassword } from "./password.ts";
import { parseAddressList } from "../mime/address-list.ts";
import { parseHeaderFields, splitHeaderBody } from "../mime/header.ts";
import type {
  AuthenticatedAccount,
  DeliveryResult,
  MailTransaction,
  RecipientVerdict,
  SessionInfo,
  SmtpBackend,
} from "../smtp/backend.ts";
import { concatBytes } from "../util/bytes.ts";
import type { PolicyPipeline } from "../policy/pipeline.ts";
import type { Verdict } from "../policy/verdict.ts";
import { type Reply, reply } from "../smtp/reply.ts";
import { isStorageFull } from "../store/errors.ts";
import { log } from "../util/log.ts";
import type { Store } from "../store/store.ts";
import { type Deliverer, DeliveryRefused } from "../deliver/deliverer.ts";
import type { Directory } from "../deliver/directory.ts";

/**
 * The `Received:` fields of the header, counted on its bytes: a line (not a continuation) starting with the
 * name in any case, optional blanks, then ":" (RFC 5322 §3.6.8 with §4.5.3's obsolete blanks). Parsing every
 * field for this was 1 % of the ingest time.
 */
export function countReceived(content: Uint8Array): number {
  const { headerEnd } = splitHeaderBody(content);
  let count = 0;
  for (let at = 0; at < headerEnd;) {
    if (isReceivedName(content, at)) count++;
    const lf = content.indexOf(0x0a, at);
    if (lf === -1) break;
    at = lf + 1;
  }
  return count;
}

const RECEIVED = new TextEncoder().encode("received");

function isReceivedName(bytes: Uint8Array, at: number): boolean {
  for (let i = 0; i < RECEIVED.length; i++) {
    // ASCII letters only, so setting 0x20 lower-cases them and nothing else can match.
    if ((bytes[at + i]! | 0x20) !== RECEIVED[i]) return false;
  }
  let i = at + RECEIVED.length;
  while (bytes[i] === 0x20 || bytes[i] === 0x09) i++;
  return bytes[i] === 0x3a;
}

export interface StoreSmtpBackendOptions {
  store: Store;
  directory: Directory;
  deliverer: Deliverer;
  throttle: AuthThrottle;
  hostname: string;
  /** Received: headers allowed before a message is taken for a loop (Postfix's hopcount_limit). */
  maxHops: number;
  policy?: PolicyPipeline;
}

export class StoreSmtpBackend implements SmtpBackend {
  constructor(private readonly options: StoreSmtpBackendOptions) {}

  authenticate(
    username: string,
    password: string,
    session: SessionInfo,
  ): Promise<AuthenticatedAccount | null | Banned> {
    return checkPassword(this.options.store, this.options.throttle, username, password, session.remoteAddress);
  }

  /** The account's own address (with or without a +tag) or an alias that delivers to it. */
  async mayUseSender(account: AuthenticatedAccount, sender: string): Promise<boolean> {
    const resolved = await this.options.directory.resolve(sender);
    if (resolved.kind === "account") return resolved.accountId === account.id;
    if (resolved.kind === "alias") {
      return resolved.targets.some((t) => t.toLowerCase() === account.address.toLowerCase());
    }
    return false;
  }

  async checkRecipient(address: string, session: SessionInfo): Promise<RecipientVerdict> {
    // RFC 5321 §4.5.1: the directory routes "postmaster" without a domain (and postmaster@, abuse@).
    try {
      const resolved = await this.options.directory.resolve(address);
      switch (resolved.kind) {
        case "forged":
          return "forged";
        case "unknown":
          return "unknown";
        case "disabled":
          // A disabled alias (issue 19): 550 5.1.1 as for an unknown one, unless set to accept and drop.
          if (!resolved.drop) {
            await this.options.store.aliases.recordUse([resolved.alias], "refused").catch((e: unknown) =>
              log.warn("alias counters not updated", { error: (e as Error).message })
            );
            return "unknown";
          }
          break;
        case "remote":
          if (!session.account) return "relay-denied";
          break;
        case "reverse":
          // Reply through an alias (issue 19): only the alias's owner, logged in, may use it.
          if (!session.account || !resolved.owners.includes(session.account.id)) {
            return { reply: reply(550, "5.7.1", "Only the alias's owner may write to a reverse address") };
          }
          break;
        case "account":
          // Postfix's quota-status answer; RFC 5321 §4.5.3.1.10 has clients retry a 552 at RCPT.
          // The directory read the quota already: most accounts have none and cost no query here.
          if (await this.#full(resolved.accountId, resolved.quota)) {
            return { reply: reply(552, "5.2.2", "Mailbox full") };
          }
          break;
        case "alias":
          // An alias whose every target is a full local account is full too; one other target takes the mail.
          if (await this.#everyTargetFull(resolved.targets)) return { reply: reply(552, "5.2.2", "Mailbox full") };
      }
    } catch (e) {
      log.error("recipient lookup failed", { recipient: address, error: e instanceof Error ? e.message : String(e) });
      return "tempfail";
    }
    const { refused } = await this.#policy({
      stage: "rcpt",
      session,
      sender: session.sender ?? "",
      recipients: [address],
    });
    return refused ? { reply: refused } : "accept";
  }

  #full(accountId: number, quota: number | null): Promise<boolean> {
    return this.options.store.emails.wouldExceedQuota(accountId, 1, quota);
  }

  async #everyTargetFull(targets: readonly string[]): Promise<boolean> {
    for (const target of targets) {
      const resolved = await this.options.directory.resolve(target);
      if (resolved.kind !== "account" || !(await this.#full(resolved.accountId, resolved.quota))) return false;
    }
    return targets.length > 0;
  }

  /** Runs the policy pipeline; a reply when it refuses, null when the message may go on. */
  async #policy(
    input: { stage: "rcpt" | "data"; session: SessionInfo; sender: string; recipients: string[]; raw?: Uint8Array },
  ): Promise<{ refused: Reply | null; verdict: Verdict | null }> {
    const pipeline = this.options.policy;
    if (!pipeline) return { refused: null, verdict: null };
    const verdict = await pipeline.run({
      stage: input.stage,
      role: input.session.role,
      remoteAddress: input.session.remoteAddress,
      helo: input.session.helo,
      sender: input.sender,
      recipients: input.recipients,
      account: input.session.account?.address ?? null,
      raw: input.raw,
    });
    if (verdict.action === "reject") {
      return { refused: reply(550, "5.7.1", verdict.reason ?? "Message refused by policy"), verdict };
    }
    if (verdict.action === "tempfail") {
      return { refused: reply(451, "4.7.1", verdict.reason ?? "Try again later"), verdict };
    }
    return { refused: null, verdict };
  }

  async deliver(transaction: MailTransaction, content: Uint8Array, session: SessionInfo): Promise<DeliveryResult> {
    // RFC 5321 §6.3: a message that has passed through too many hops is in a loop.
    const hops = countReceived(content);
    if (hops > this.options.maxHops) {
      return {
        ok: false,
        reply: reply(554, "5.4.6", `Too many hops (${hops} Received: headers), mail loop suspected`),
      };
    }
    if (session.role === "submission" && session.account) {
      const foreign = await this.#foreignFromAddress(session.account, content);
      if (foreign !== null) {
        return {
          ok: false,
          reply: reply(553, "5.7.1", `From address <${foreign}> not owned by ${session.account.address}`),
        };
      }
    }
    const { refused, verdict } = await this.#policy({
      stage: "data",
      session,
      sender: transaction.sender,
      recipients: transaction.recipients.map((r) => r.address),
      raw: content,
    });
    if (refused) return { ok: false, reply: refused };
    // Discard: accepted, logged by the pipeline, and dropped (RFC 5321 §6.2 allows it for policy).
    if (verdict?.action === "discard") return { ok: true };
    const tagged = verdict?.headers?.length
      ? concatBytes([new TextEncoder().encode(verdict.headers.map((h) => `${h}\r\n`).join("")), content])
      : content;
    try {
      const report = await this.#deliver(transaction, tagged, session, verdict);
      // The message's line in the log: the id of the 250 reply, and what was decided about it.
      log.info("accepted", {
        id: transaction.id,
        queue: report.queueId,
        ip: session.remoteAddress,
        helo: session.helo,
        from: `<${transaction.sender}>`,
        to: transaction.recipients.map((r) => `<${r.address}>`).join(","),
        size: content.length,
        tls: session.tls?.protocol ?? "none",
        user: session.account?.address,
        results: report.authResults ?? "none",
        verdict: verdict?.action ?? "accept",
        stored: report.stored,
      });
    } catch (e) {
      if (e instanceof DeliveryRefused) {
        return { ok: false, reply: reply(e.code, e.enhanced, ...(e.lines ?? [e.message])) };
      }
      // RFC 5321 §4.2.2 452 and RFC 3463 X.3.1: the sender keeps the message and retries.
      if (isStorageFull(e)) {
        return { ok: false, reply: reply(452, "4.3.1", "Insufficient system storage, try again later") };
      }
      // A bug or an I/O failure: logged here with its cause, never shown to the client.
      log.error("delivery failed", {
        id: transaction.id,
        error: e instanceof Error ? (e.stack ?? e.message) : String(e),
      });
      return { ok: false, reply: reply(451, "4.3.0", "Could not store the message, try again later") };
    }
    return { ok: true };
  }

  #deliver(transaction: MailTransaction, tagged: Uint8Array, session: SessionInfo, verdict: Verdict | null) {
    return this.options.deliverer.deliver({
      junk: verdict?.action === "junk",
      policyHeaders: verdict?.headers,
      sender: transaction.sender,
      recipients: transaction.recipients.map((r) => ({
        address: r.address,
        notify: r.notify,
        orcpt: r.orcpt,
      })),
      envid: transaction.envid,
      ret: transaction.ret,
      raw: tagged,
      accountId: session.account?.id,
      authenticatedAs: session.account?.address,
      inbound: session.role === "mx" && !session.account,
      remoteIp: session.remoteAddress,
      helo: session.helo,
    });
  }

  /** The first From: address the account may not use, or null when all are its own. */
  async #foreignFromAddress(account: AuthenticatedAccount, content: Uint8Array): Promise<string | null> {
    const { headerEnd } = splitHeaderBody(content);
    const fields = parseHeaderFields(content.subarray(0, headerEnd)).filter((f) => f.lowerName === "from");
    for (const field of fields) {
      for (const entry of parseAddressList(field.value)) {
        const addresses = "group" in entry ? entry.addresses : [entry];
        for (const { address } of addresses) {
          if (!(await this.mayUseSender(account, address))) return address;
        }
      }
    }
    return null;
  }
}
