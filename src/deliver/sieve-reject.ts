/**
 * Sieve `reject`/`ereject` at delivery (RFC 5429): the SMTP reply when the message can still be refused in the
 * transaction, else a rejection notice (a DSN, RFC 3464) to the envelope sender through the queue.
 */
import { buildDsn } from "../queue/dsn.ts";
import type { NewQueueEntry } from "../store/queue.ts";

export interface SieveRejection {
  /** The envelope recipient whose script rejected the message. */
  recipient: string;
  reason: string;
  extended: boolean;
}

const GENERIC = "Message rejected by the recipient's mail filter";
const MAX_LINES = 10;
const MAX_LINE = 400;

/**
 * RFC 5429 §2.1.1: the reason goes into the 550 reply's text. Reply text is printable US-ASCII (RFC 5321 §4.2), so a
 * reason that is not (or is empty or too long) gives a generic text; its lines become the reply's lines.
 */
export function rejectReplyText(reason: string): string[] {
  const lines = reason.replace(/\r\n?/g, "\n").replace(/\n+$/, "").split("\n");
  const fits = lines.length <= MAX_LINES && lines.every((l) => l.length <= MAX_LINE && /^[\x20-\x7e\t]*$/.test(l));
  return fits && lines.some((l) => l.trim() !== "") ? lines : [GENERIC];
}

/**
 * RFC 5429 §2.1: after acceptance the sender is told by a notice; never to the null sender (the message is then simply
 * not delivered), and not for junk, which would send backscatter to a forged sender.
 */
export function rejectionNotice(
  rejection: SieveRejection,
  message: { raw: Uint8Array; sender: string; junk: boolean; ret?: "FULL" | "HDRS"; envid?: string },
  hostname: string,
  now = new Date(),
): (NewQueueEntry & { raw: Uint8Array }) | null {
  if (message.sender === "" || message.junk) return null;
  const raw = buildDsn({
    hostname,
    to: message.sender,
    envid: message.envid,
    ret: message.ret,
    arrivalDate: now,
    now,
    recipients: [{
      address: rejection.recipient,
      action: "failed",
      status: "5.7.1",
      diagnostic: `550 5.7.1 ${rejectReplyText(rejection.reason).join(" ")}`,
    }],
    original: message.raw,
  });
  // RFC 3461 §6.2: a notice goes out with the null reverse-path, so it never bounces back.
  return { sender: "", recipients: [{ address: message.sender }], raw };
}
