/**
 * Vacation replies (RFC 5230, RFC 3834): whether a message may get one, and the reply itself. Pure; the once-per-period
 * record and the queueing are done by src/deliver/sieve.ts.
 */
import { parseAddressList } from "../mime/address-list.ts";
import { decodeEncodedWords } from "../mime/encoded-words.ts";
import { type HeaderField, headerValue } from "../mime/header.ts";
import { messageIds } from "../mime/message-id.ts";
import { headerField, is7bit, quotedPrintable, unstructured } from "../mime/write.ts";
import type { SieveAction } from "../sieve/index.ts";
import { formatDate } from "../smtp/received.ts";

export type VacationAction = Extract<SieveAction, { type: "vacation" }>;

export interface VacationContext {
  action: VacationAction;
  /** The account's own address. */
  account: string;
  /** The envelope recipient that reached the account (may carry a +detail). */
  recipient: string;
  /** The envelope sender of the original; "" for the null sender. */
  sender: string;
  headers: readonly HeaderField[];
  junk: boolean;
}

const LIST_FIELDS = [
  "list-id",
  "list-help",
  "list-subscribe",
  "list-unsubscribe",
  "list-post",
  "list-owner",
  "list-archive",
];
/** RFC 5230 §4.6: senders that are lists or daemons. */
const SYSTEM_SENDER = /^(owner-.*|.*-request|mailer-daemon|listserv|majordomo)$/i;

const lower = (s: string) => s.toLowerCase();
const localPart = (address: string) => address.slice(0, address.lastIndexOf("@"));

function addressesIn(headers: readonly HeaderField[], names: readonly string[]): string[] {
  return headers
    .filter((f) => names.includes(f.lowerName))
    .flatMap((f) => parseAddressList(f.value, { decode: false }))
    .flatMap((e) => ("group" in e ? e.addresses : [e]))
    .map((a) => lower(a.address));
}

/** Why no reply is sent, or null when one may be (the period is checked by the caller). */
export function vacationSkipReason(ctx: VacationContext): string | null {
  const { headers, sender } = ctx;
  // RFC 5230 §4.6, RFC 3834 §2: never to the null sender, to automatic mail, lists, bulk mail or junk.
  if (sender === "") return "null sender";
  if (ctx.junk) return "junk";
  const auto = headerValue(headers, "auto-submitted");
  if (auto !== null && lower(auto.split(";")[0]!.trim()) !== "no") return "auto-submitted";
  if (headers.some((f) => LIST_FIELDS.includes(f.lowerName))) return "mailing list";
  const precedence = lower(headerValue(headers, "precedence") ?? "").trim();
  if (["bulk", "list", "junk"].includes(precedence)) return `precedence ${precedence}`;
  if (SYSTEM_SENDER.test(localPart(sender))) return "list or system sender";
  const own = new Set([ctx.account, ctx.recipient, ...ctx.action.addresses].map(lower));
  if (ctx.action.from !== null) {
    for (const e of parseAddressList(ctx.action.from, { decode: false })) {
      for (const a of "group" in e ? e.addresses : [e]) own.add(lower(a.address));
    }
  }
  if (own.has(lower(sender))) return "own address";
  // RFC 5230 §4.5: only when one of the user's addresses is a visible recipient.
  const visible = addressesIn(headers, ["to", "cc", "bcc", "resent-to", "resent-cc", "resent-bcc"]);
  if (!visible.some((a) => own.has(a))) return "not addressed to the recipient";
  return null;
}

const oneLine = (s: string) => s.replace(/[\r\n]+/g, " ");

/** The reply (RFC 5230 §5): to the sender, from the account, Auto-Submitted: auto-replied, threaded to the original. */
export function vacationReply(ctx: VacationContext, hostname: string, now = new Date()): Uint8Array {
  const { action, headers } = ctx;
  const original = headerValue(headers, "subject");
  // RFC 5230 §4.4: without :subject, "Auto:" and the original subject.
  const subject = action.subject ?? `Auto: ${original === null ? "" : decodeEncodedWords(original)}`.trim();
  const id = messageIds(headerValue(headers, "message-id"))[0];
  const references = [...messageIds(headerValue(headers, "references")), ...(id ? [id] : [])];
  const lines = [
    headerField("From", oneLine(action.from ?? ctx.account)),
    headerField("To", `<${ctx.sender}>`),
    headerField("Subject", unstructured(oneLine(subject))),
    `Date: ${formatDate(now)}`,
    `Message-ID: <${crypto.randomUUID()}@${hostname}>`,
    ...(id ? [`In-Reply-To: <${id}>`, headerField("References", references.map((r) => `<${r}>`).join(" "))] : []),
    "Auto-Submitted: auto-replied",
    "MIME-Version: 1.0",
  ];
  let head = lines.join("\r\n") + "\r\n";
  // RFC 5230 §4.8: with :mime the reason is a MIME part, headers included.
  if (action.mime) return new TextEncoder().encode(head + action.reason.replace(/\r?\n/g, "\r\n"));
  const body = new TextEncoder().encode(action.reason.replace(/\r?\n/g, "\r\n"));
  if (is7bit(body)) {
    head += "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\n";
    return new TextEncoder().encode(head + new TextDecoder().decode(body));
  }
  head += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n";
  return new TextEncoder().encode(head + quotedPrintable(body));
}
