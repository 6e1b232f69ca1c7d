/**
 * The `Received:` trace header Postern prepends to every message it accepts
 * (RFC 5321 §4.4), with the protocol keyword of RFC 3848 / RFC 6531 §3.7.3.
 */
import type { TlsInfo } from "../connection.ts";

export interface ReceivedInput {
  helo: string;
  remoteAddress: string;
  hostname: string;
  id: string;
  /** EHLO (ESMTP) rather than HELO (SMTP). */
  extended: boolean;
  tls: TlsInfo | null;
  authenticated: boolean;
  smtputf8: boolean;
  /** Named in a `for` clause only when there is exactly one (RFC 5321 §7.2 privacy). */
  recipients: string[];
  date: Date;
}

/** SMTP, ESMTP, ESMTPS, ESMTPA, ESMTPSA, UTF8SMTP, UTF8SMTPSA, ... */
export function withProtocol(input: Pick<ReceivedInput, "extended" | "tls" | "authenticated" | "smtputf8">): string {
  if (!input.extended) return "SMTP";
  const base = input.smtputf8 ? "UTF8SMTP" : "ESMTP";
  return base + (input.tls ? "S" : "") + (input.authenticated ? "A" : "");
}

export function receivedHeader(input: ReceivedInput): string {
  const address = input.remoteAddress.includes(":") ? `IPv6:${input.remoteAddress}` : input.remoteAddress;
  const lines = [
    `Received: from ${sanitize(input.helo) || "unknown"} ([${address}])`,
    `\tby ${input.hostname} (Postern) with ${withProtocol(input)} id ${input.id}`,
  ];
  if (input.tls) lines.push(`\t(version=${input.tls.protocol} cipher=${input.tls.cipher})`);
  if (input.recipients.length === 1) lines.push(`\tfor <${sanitize(input.recipients[0]!)}>`);
  lines[lines.length - 1] += `; ${formatDate(input.date)}`;
  return `${lines.join("\r\n")}\r\n`;
}

/** Keeps a client-supplied token from breaking the header's syntax. */
function sanitize(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return text.replace(/[^\x21-\x7e\u0080-\uffff]/g, "").replace(/[()<>;\\"]/g, "");
}

const UNSAFE = /[^\x21-\x7e\u0080-\uffff]|[()<>;\\"]/;

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** RFC 5322 §3.3 date-time in UTC, e.g. "Mon, 23 Nov 2026 04:05:06 +0000". */
export function formatDate(date: Date): string {
  const two = (n: number) => (n < 10 ? `0${n}` : `${n}`);
  return (
    `${DAYS[date.getUTCDay()]}, ${date.getUTCDate()} ${MONTHS[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${two(date.getUTCHours())}:${two(date.getUTCMinutes())}:${two(date.getUTCSeconds())} +0000`
  );
}
