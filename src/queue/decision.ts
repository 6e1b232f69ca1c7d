/**
 * What one attempt at a queued message means, as a pure function: given the message, its
 * recipients with the reply each got, and the clock, each recipient's outcome (delivered, failed,
 * or pending with the next attempt) and the delivery status notices owed to the sender. No I/O:
 * the runner records the outcomes and sends the notices.
 */
import type { ClientReply } from "../smtp/client.ts";
import { type DsnRecipient, wantsNotice } from "./dsn.ts";

export interface DecisionMessage {
  /** MAIL FROM; "" is the null sender. */
  sender: string;
  /** When the message entered the queue; its age decides warnings and giving up. */
  createdAt: Date;
}

/** A recipient as the queue holds it, with the reply of this attempt. */
export interface Attempt {
  id: number;
  recipient: string;
  /** RFC 3461 NOTIFY, comma-separated, and ORCPT ("rfc822;addr"). */
  notify: string | null;
  orcpt: string | null;
  /** Attempts before this one. */
  attempts: number;
  delayNotified: boolean;
  reply: ClientReply;
  /** The server that gave the reply (for Remote-MTA), if one did. */
  mta?: string;
}

export interface DecisionOptions {
  /** A recipient still deferred after this age fails. */
  maxAgeMs: number;
  /** A deferred recipient older than this gets one "delayed" DSN; 0 or absent turns them off. */
  delayWarningMs?: number;
  /** The first retry delay (5 minutes when absent); it doubles after each attempt. */
  retryDelayMs?: number;
}

export interface Outcome {
  recipientId: number;
  status: "delivered" | "failed" | "pending";
  attempts: number;
  /** The reply as one line: "451 4.4.1 text". */
  lastReply: string;
  nextAttemptAt: Date;
  /** This attempt owes the sender the (one) "delayed" notice. */
  delayNotified: boolean;
}

/** A recipient's part of the DSN owed to the sender. */
export type Notice = DsnRecipient & { recipientId: number };

export interface Decision {
  /** One per attempt, in the same order. */
  outcomes: Outcome[];
  /** What the DSN to the sender reports; empty when none is owed. */
  notices: Notice[];
}

/** Delay before the next try: `baseMs` (5 minutes by default), doubling, at most 4 hours. */
export function retryDelayMs(attempts: number, baseMs = 300_000): number {
  return Math.min(baseMs * 2 ** Math.max(0, attempts - 1), 4 * 3_600_000);
}

/** The reply as the queue stores and logs it. */
export function replyLine(reply: ClientReply): string {
  return `${reply.code}${reply.enhanced ? ` ${reply.enhanced}` : ""} ${reply.text}`.trim();
}

export function decide(
  message: DecisionMessage,
  attempts: readonly Attempt[],
  now: number,
  options: DecisionOptions,
): Decision {
  const age = now - message.createdAt.getTime();
  const expired = age > options.maxAgeMs;
  const warnAfter = options.delayWarningMs ?? 0;
  const retryUntil = new Date(message.createdAt.getTime() + options.maxAgeMs);
  const outcomes: Outcome[] = [];
  const notices: Notice[] = [];
  for (const a of attempts) {
    const { reply } = a;
    const text = replyLine(reply);
    // RFC 5321 §4.2.1: 5yz is permanent; 4yz is retried until the message is too old (§4.5.4.1).
    const failed = reply.code >= 500 || (reply.code >= 400 && expired);
    const status = reply.code < 400 ? "delivered" : failed ? "failed" : "pending";
    // Still deferred after the warning time: the sender hears once that it is taking long
    // (RFC 3464 §2.3.3 "delayed"). Marked even when NOTIFY declines the notice, so it is decided once.
    const delayed = status === "pending" && warnAfter > 0 && age >= warnAfter && !a.delayNotified;
    outcomes.push({
      recipientId: a.id,
      status,
      attempts: a.attempts + 1,
      lastReply: text,
      nextAttemptAt: new Date(now + retryDelayMs(a.attempts + 1, options.retryDelayMs)),
      delayNotified: delayed,
    });
    const action = status === "delivered" ? "delivered" : status === "failed" ? "failed" : delayed ? "delayed" : null;
    if (action && wantsNotice(a.notify, action)) {
      const code = reply.enhanced ?? (action === "failed" ? "5.0.0" : action === "delayed" ? "4.0.0" : "2.0.0");
      notices.push({
        recipientId: a.id,
        address: a.recipient,
        orcpt: a.orcpt,
        action,
        status: code,
        remoteMta: a.mta,
        diagnostic: text,
        ...(action === "delayed" ? { willRetryUntil: retryUntil } : {}),
      });
    }
  }
  // RFC 3461, RFC 5321 §4.5.5: never a DSN for a message with the null sender.
  return { outcomes, notices: message.sender === "" ? [] : notices };
}
