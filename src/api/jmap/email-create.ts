/**
 * Email/set create (RFC 8621 §4.6): a message built from JMAP properties.
 */
import { eq } from "drizzle-orm";
import { summarize } from "../../mime/summary.ts";
import { messages } from "../../store/schema.ts";
import { wouldExceedQuota } from "../../store/quota.ts";
import type { Store } from "../../store/store.ts";
import { emailId, flagOf } from "./email.ts";
import { type JmapAccount, parseId } from "./mailbox.ts";

/**
 * Email/set create (RFC 8621 §4.6): a message built from JMAP properties — addresses, subject,
 * text and/or HTML body values — stored like an APPEND (drafts, typically).
 */
export async function createEmail(store: Store, account: JmapAccount, spec: Record<string, unknown>, boxes: Set<number>): Promise<Record<string, unknown> | { error: string } | { overQuota: true }> {
  const targets = Object.keys((spec.mailboxIds as object) ?? {}).map((id) => parseId("MB", id));
  const target = targets.length === 1 ? targets[0] : null;
  if (target === null || target === undefined || !boxes.has(target)) return { error: "mailboxIds must name exactly one mailbox of this account" };
  type Addr = { name?: string | null; email: string };
  const list = (value: unknown) => ((value as Addr[] | undefined) ?? []).map((a) => (a.name ? `"${a.name.replace(/["\\]/g, "")}" <${a.email}>` : `<${a.email}>`)).join(", ");
  const values = (spec.bodyValues as Record<string, { value?: string }> | undefined) ?? {};
  const bodyOf = (parts: unknown) => {
    const id = (parts as Array<{ partId?: string }> | undefined)?.[0]?.partId;
    return id !== undefined ? values[id]?.value : undefined;
  };
  const text = bodyOf(spec.textBody);
  const html = bodyOf(spec.htmlBody);
  const subject = typeof spec.subject === "string" ? spec.subject : "";
  const encodedSubject = /^[\x20-\x7e]*$/.test(subject) ? subject : `=?UTF-8?B?${Buffer.from(subject).toString("base64")}?=`;
  const headers = [
    spec.from ? `From: ${list(spec.from)}` : `From: <${account.address}>`,
    ...(spec.to ? [`To: ${list(spec.to)}`] : []),
    ...(spec.cc ? [`Cc: ${list(spec.cc)}`] : []),
    ...(spec.bcc ? [`Bcc: ${list(spec.bcc)}`] : []),
    `Subject: ${encodedSubject}`,
    `Date: ${new Date().toUTCString().replace("GMT", "+0000")}`,
    `Message-ID: <${crypto.randomUUID()}@${account.address.split("@")[1]}>`,
    "MIME-Version: 1.0",
  ];
  let body: string;
  if (text !== undefined && html !== undefined) {
    const boundary = `alt-${crypto.randomUUID()}`;
    headers.push(`Content-Type: multipart/alternative; boundary="${boundary}"`);
    body = `--${boundary}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${text}\r\n--${boundary}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n${html}\r\n--${boundary}--\r\n`;
  } else {
    headers.push(`Content-Type: text/${html !== undefined ? "html" : "plain"}; charset=utf-8`, "Content-Transfer-Encoding: 8bit");
    body = `${html ?? text ?? ""}\r\n`;
  }
  const raw = new TextEncoder().encode(`${headers.join("\r\n")}\r\n\r\n${body.replace(/\r?\n/g, "\r\n")}`);
  const summary = summarize(raw);
  const flags = Object.keys((spec.keywords as object) ?? {}).map(flagOf);
  const appended = await store.write(async (tx) => {
    if (await wouldExceedQuota(tx, account.id, raw.length)) return null;
    const blob = await store.messages.putBlob(tx, raw);
    return store.messages.append(tx, blob, raw.length, {
      mailboxId: target, summary: summary as unknown as Record<string, unknown>, flags,
      internalDate: typeof spec.receivedAt === "string" ? new Date(spec.receivedAt) : new Date(),
      messageId: summary.messageId, subject: summary.subject, sentAt: summary.sentAt ? new Date(summary.sentAt) : null,
    });
  });
  if (!appended) return { overQuota: true };
  store.changes.publish({ accountId: account.id, mailboxIds: [target], modseq: appended.modseq });
  const [row] = await store.db.select({ hash: messages.blobHash }).from(messages).where(eq(messages.id, appended.id));
  return { id: emailId(appended.id), blobId: `B${row!.hash}`, threadId: emailId(appended.id), size: raw.length };
}

