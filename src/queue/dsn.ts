/**
 * Delivery status notifications (RFC 3464 multipart/report, RFC 3461 semantics): which
 * recipients get one, and the message itself.
 */
import { concatBytes } from "../util/bytes.ts";
import { splitHeaderBody } from "../mime/header.ts";
import { formatDate } from "../smtp/received.ts";
import { encodeXtext, isAddrType, isPrintableAscii } from "../smtp/xtext.ts";

export interface DsnRecipient {
  address: string;
  /** ORCPT as stored: "rfc822;addr". */
  orcpt?: string | null;
  action: "failed" | "delayed" | "delivered" | "relayed";
  /** RFC 3463 code, e.g. "5.1.1". */
  status: string;
  remoteMta?: string;
  /** The remote server's reply, or our own reason. */
  diagnostic: string;
  /** For "delayed": when we give up (RFC 3464 §2.3.9 Will-Retry-Until). */
  willRetryUntil?: Date;
}

export interface DsnInput {
  hostname: string;
  /** The original envelope sender, to whom the report goes. */
  to: string;
  envid?: string | null;
  ret?: "FULL" | "HDRS" | null;
  arrivalDate: Date;
  recipients: DsnRecipient[];
  original: Uint8Array;
  now?: Date;
}

/** RFC 3461 §4.1: NEVER suppresses everything; absent NOTIFY means FAILURE (and DELAY). */
export function wantsNotice(notify: string | null | undefined, action: DsnRecipient["action"]): boolean {
  const values = notify ? notify.toUpperCase().split(",") : ["FAILURE", "DELAY"];
  if (values.includes("NEVER")) return false;
  if (action === "failed") return values.includes("FAILURE");
  if (action === "delayed") return values.includes("DELAY");
  return values.includes("SUCCESS");
}

const enc = new TextEncoder();

/**
 * ENVID and ORCPT are client-supplied: the SMTP parser lets only printable US-ASCII through, and
 * anything else (a row queued before that check, a caller of this module) goes out xtext-encoded
 * again (RFC 3461 §4), so a CR or LF can never start a header field of its own in the report.
 */
function printable(value: string): string {
  return isPrintableAscii(value) ? value : encodeXtext(value);
}

/** RFC 3464 §2.3.1 `Original-Recipient: address-type ";" generic-address`; none when the type is not an atom. */
function originalRecipient(orcpt: string): string[] {
  const semi = orcpt.indexOf(";");
  const type = orcpt.slice(0, semi);
  if (semi <= 0 || !isAddrType(type)) return [];
  return [`Original-Recipient: ${type}; ${printable(orcpt.slice(semi + 1))}`];
}

export function buildDsn(input: DsnInput): Uint8Array {
  const now = input.now ?? new Date();
  const boundary = `postern-dsn-${crypto.randomUUID()}`;
  const failed = input.recipients.some((r) => r.action === "failed");
  const delayed = !failed && input.recipients.every((r) => r.action === "delayed");
  const subject = failed
    ? "Undelivered Mail Returned to Sender"
    : delayed
    ? "Delayed Mail (still being retried)"
    : "Delivery Status Notification";
  const retryUntil = input.recipients.find((r) => r.willRetryUntil)?.willRetryUntil;
  const human = [
    `This is the mail system at ${input.hostname}.`,
    "",
    failed ? "Your message could not be delivered to one or more recipients:" : delayed
      ? [
        "Your message has not been delivered yet to the recipients below.",
        `This is a warning only: delivery is retried${retryUntil ? ` until ${formatDate(retryUntil)}` : ""},`,
        "and you need not send the message again.",
      ].join("\r\n")
      : "Delivery status of your message:",
    "",
    ...input.recipients.map((r) => `<${r.address}>: ${r.action}: ${r.diagnostic}`),
    "",
  ].join("\r\n");
  const perMessage = [
    `Reporting-MTA: dns; ${input.hostname}`,
    ...(input.envid ? [`Original-Envelope-Id: ${printable(input.envid)}`] : []),
    `Arrival-Date: ${formatDate(input.arrivalDate)}`,
  ];
  const perRecipient = input.recipients.map((r) =>
    [
      `Final-Recipient: rfc822; ${r.address}`,
      ...(r.orcpt ? originalRecipient(r.orcpt) : []),
      `Action: ${r.action}`,
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
      `Diagnostic-Code: smtp; ${r.diagnostic.replace(/[\r\n]+/g, " ")}`,
      ...(r.willRetryUntil ? [`Will-Retry-Until: ${formatDate(r.willRetryUntil)}`] : []),
    ].join("\r\n")
  );
  const headersOnly = input.ret === "HDRS";
  const original = headersOnly ? input.original.subarray(0, splitHeaderBody(input.original).bodyStart) : input.original;
  const head = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${input.to}>`,
    `Subject: ${subject}`,
    `Date: ${formatDate(now)}`,
    `Message-ID: <${crypto.randomUUID()}@${input.hostname}>`,
    // RFC 3834 §5: so that vacation responders and the like stay silent.
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    "",
    `--${boundary}`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    human,
    `--${boundary}`,
    "Content-Type: message/delivery-status",
    "",
    [perMessage.join("\r\n"), ...perRecipient].join("\r\n\r\n"),
    "",
    `--${boundary}`,
    `Content-Type: ${headersOnly ? "text/rfc822-headers" : "message/rfc822"}`,
    "",
    "",
  ].join("\r\n");
  return concatBytes([enc.encode(head), original, enc.encode(`\r\n--${boundary}--\r\n`)]);
}
