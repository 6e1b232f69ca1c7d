/**
 * Email/set create (RFC 8621 §4.6): a message built from JMAP properties; and the append that it
 * shares with Email/import.
 */
import { StoreError } from "../../store/errors.ts";
import type { Store } from "../../store/store.ts";
import { emailId, flagOf } from "./email.ts";
import { type JmapAccount, parseId } from "./mailbox.ts";

/** The mailboxes of a `mailboxIds` object, when it names at least one and only the account's own. */
export function targetMailboxes(value: unknown, boxes: Set<number>): number[] | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.some(([, on]) => on !== true)) return null;
  const ids = entries.map(([id]) => parseId("MB", id));
  return ids.every((id): id is number => id !== null && boxes.has(id)) ? ids : null;
}

/**
 * Stores a new email in the first mailbox, then puts it in the others: the store threads it
 * (References / In-Reply-To) like a delivered message.
 */
export async function appendEmail(
  store: Store,
  account: JmapAccount,
  raw: Uint8Array,
  targets: readonly number[],
  flags: readonly string[],
  receivedAt: Date,
) {
  const appended = await store.mail.append({ accountId: account.id, mailboxId: targets[0]!, raw, flags, receivedAt });
  if (appended === "overQuota") return { overQuota: true } as const;
  if (targets.length > 1) {
    const result = await store.mail.updateEmail(account.id, appended.emailId, { mailboxIds: targets });
    if (result === "notFound") throw new StoreError("not-found", `Email ${appended.emailId} vanished`);
  }
  return {
    id: emailId(appended.emailId),
    blobId: `B${appended.blobHash}`,
    threadId: appended.threadId,
    size: appended.size,
  };
}

/**
 * Email/set create (RFC 8621 §4.6): a message built from JMAP properties — addresses, subject,
 * text and/or HTML body values — stored like an APPEND (drafts, typically).
 */
export async function createEmail(
  store: Store,
  account: JmapAccount,
  spec: Record<string, unknown>,
  boxes: Set<number>,
): Promise<Record<string, unknown> | { error: string } | { overQuota: true }> {
  const targets = targetMailboxes(spec.mailboxIds, boxes);
  if (!targets) return { error: "mailboxIds must name at least one mailbox of this account" };
  type Addr = { name?: string | null; email: string };
  const addrs = (value: unknown) => (value as Addr[] | undefined) ?? [];
  // Issue 18: a client's CR or LF must not start a header field of its own.
  const fields = [spec.from, spec.to, spec.cc, spec.bcc];
  if (!fields.every((v) => v === undefined || v === null || (Array.isArray(v) && v.every(isEmailAddress)))) {
    return { error: "addresses must be objects with a valid email and an optional name" };
  }
  const list = (value: unknown) =>
    addrs(value).map((a) => (a.name ? `${phrase(a.name)} <${a.email}>` : `<${a.email}>`)).join(", ");
  const values = (spec.bodyValues as Record<string, { value?: string }> | undefined) ?? {};
  const bodyOf = (parts: unknown) => {
    const id = (parts as Array<{ partId?: string }> | undefined)?.[0]?.partId;
    return id !== undefined ? values[id]?.value : undefined;
  };
  const text = bodyOf(spec.textBody);
  const html = bodyOf(spec.htmlBody);
  const subject = typeof spec.subject === "string" ? spec.subject : "";
  const encodedSubject = /^[\x20-\x7e]*$/.test(subject) ? subject : encodedWord(subject);
  // RFC 8621 §4.1.3: inReplyTo and references are message ids without angle brackets; they thread the reply.
  const msgIds = (value: unknown, name: string) => {
    if (value === undefined || value === null) return [];
    if (
      !Array.isArray(value) || !value.every((id) => typeof id === "string" && /^[\x21-\x3b\x3d\x3f-\x7e]+$/.test(id))
    ) return null;
    return value.length ? [`${name}: ${value.map((id) => `<${id}>`).join(" ")}`] : [];
  };
  const inReplyTo = msgIds(spec.inReplyTo, "In-Reply-To");
  const references = msgIds(spec.references, "References");
  if (!inReplyTo || !references) return { error: "inReplyTo and references must be lists of message ids" };
  const headers = [
    spec.from ? `From: ${list(spec.from)}` : `From: <${account.address}>`,
    ...(spec.to ? [`To: ${list(spec.to)}`] : []),
    ...(spec.cc ? [`Cc: ${list(spec.cc)}`] : []),
    ...(spec.bcc ? [`Bcc: ${list(spec.bcc)}`] : []),
    `Subject: ${encodedSubject}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${crypto.randomUUID()}@${account.address.split("@")[1]}>`,
    ...inReplyTo,
    ...references,
    "MIME-Version: 1.0",
  ];
  let body: string;
  if (text !== undefined && html !== undefined) {
    const boundary = `alt-${crypto.randomUUID()}`;
    headers.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
    body =
      `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${html}\r\n--${boundary}--\r\n`;
  } else {
    headers.push(
      `Content-Type: text/${html !== undefined ? "html" : "plain"}; charset=utf-8`,
      "Content-Transfer-Encoding: 8bit",
    );
    body = `${html ?? text ?? ""}\r\n`;
  }
  const raw = new TextEncoder().encode(`${headers.join("\r\n")}\r\n\r\n${body.replace(/\r?\n/g, "\r\n")}`);
  const flags = Object.keys((spec.keywords as object) ?? {}).map(flagOf);
  const receivedAt = typeof spec.receivedAt === "string" ? new Date(spec.receivedAt) : new Date();
  if (Number.isNaN(receivedAt.getTime())) return { error: "receivedAt must be a UTCDate" };
  return appendEmail(store, account, raw, targets, flags, receivedAt);
}

/** RFC 2047 §4.1 B encoding of UTF-8 text, for header text that is not printable ASCII. */
function encodedWord(text: string): string {
  return `=?UTF-8?B?${Buffer.from(text).toString("base64")}?=`;
}

/** A display name as an RFC 5322 quoted-string, or an encoded-word when it is not printable ASCII. */
function phrase(name: string): string {
  return /^[\x20-\x7e]*$/.test(name) ? `"${name.replace(/["\\]/g, "\\$&")}"` : encodedWord(name);
}

/** RFC 8621 §4.1.2.3 EmailAddress: an addr-spec with no space, control character or bracket in it. */
function isEmailAddress(a: unknown): boolean {
  const { name, email } = (a ?? {}) as { name?: unknown; email?: unknown };
  return (name === undefined || name === null || typeof name === "string") && typeof email === "string" &&
    /^[^\x00-\x20\x7f<>()\[\],;:"\\@]+@[^\x00-\x20\x7f<>()\[\],;:"\\@]+$/.test(email);
}
