/**
 * Filing a delivered message where an account's Sieve script said (issue 21), inside the delivery transaction: one
 * email with a membership per destination mailbox, flags from imap4flags, mailboxes created for `fileinto :create`
 * (RFC 5490 §3.2, parents included). A mailbox that does not exist without `:create` falls back to the default, so a
 * script never loses mail.
 */
import { and, eq, lte } from "drizzle-orm";
import type { MessageSummary } from "../mime/summary.ts";
import { addMembership, type Appended, appendEmail, putBlob } from "./append.ts";
import type { ChangeRecorder } from "./change-log.ts";
import type { Tx } from "./db.ts";
import { createMailbox } from "./mailboxes.ts";
import { mailboxes, sieveDuplicates, sieveVacationReplies } from "./schema.ts";

/** Where the script put the message; an empty list means it was discarded. */
export interface SieveFiling {
  destinations: Array<{
    /** A mailbox name, or null for the default (INBOX, or Junk for junk). */
    mailbox: string | null;
    flags: readonly string[];
    create: boolean;
  }>;
  /** RFC 5293: the message as editheader left it, stored instead of the delivered one. */
  edited?: { raw: Uint8Array; summary: MessageSummary };
  /** A notice for the account (its script failed, issue 21), put in INBOX beside the message. */
  notice?: { raw: Uint8Array; summary: MessageSummary };
}

/** What the scripts' runs leave behind, written in the delivery's transaction so a failed delivery leaves nothing. */
export interface SieveRecords {
  /** RFC 5230 §4.2: replies sent, one per account, handle and sender (lower-cased). */
  vacations: Array<{ accountId: number; handle: string; sender: string; sentAt: Date }>;
  /** RFC 7352 §3: values seen by duplicate tests, with when they stop counting. */
  duplicates: Array<{ accountId: number; handle: string; hash: string; expiresAt: Date }>;
}

export async function recordSieve(tx: Tx, records: SieveRecords): Promise<void> {
  for (const v of records.vacations) {
    const row = { ...v, sender: v.sender.toLowerCase() };
    await tx.insert(sieveVacationReplies).values(row).onConflictDoUpdate({
      target: [sieveVacationReplies.accountId, sieveVacationReplies.handle, sieveVacationReplies.sender],
      set: { sentAt: row.sentAt },
    });
  }
  const now = new Date();
  for (const accountId of new Set(records.duplicates.map((d) => d.accountId))) {
    await tx.delete(sieveDuplicates).where(
      and(eq(sieveDuplicates.accountId, accountId), lte(sieveDuplicates.expiresAt, now)),
    );
  }
  for (const d of records.duplicates) {
    await tx.insert(sieveDuplicates).values(d).onConflictDoUpdate({
      target: [sieveDuplicates.accountId, sieveDuplicates.handle, sieveDuplicates.hash],
      set: { expiresAt: d.expiresAt },
    });
  }
}

const SYSTEM_FLAGS = new Map(["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"].map((f) => [
  f.toLowerCase(),
  f,
]));

/** RFC 5232 §3: system flags in their IMAP spelling; other backslash words (\Recent, unknown) are dropped. */
export function imapFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of flags) {
    const flag = f.startsWith("\\")
      ? SYSTEM_FLAGS.get(f.toLowerCase())
      : /^[!#-'*+\-.0-9;<=>?@A-Z^-z|~]+$/.test(f)
      ? f
      : null;
    if (flag && !out.includes(flag)) out.push(flag);
  }
  return out;
}

const SEPARATOR = "/";

async function mailboxId(
  tx: Tx,
  changes: ChangeRecorder,
  accountId: number,
  name: string,
  create: boolean,
): Promise<number | null> {
  if (name.toUpperCase() === "INBOX") return null;
  const find = async (n: string) =>
    (await tx.select({ id: mailboxes.id }).from(mailboxes).where(
      and(eq(mailboxes.accountId, accountId), eq(mailboxes.name, n)),
    ))[0]?.id;
  const found = await find(name);
  if (found !== undefined || !create) return found ?? null;
  const parts = name.split(SEPARATOR);
  if (name.length > 1024 || parts.some((p) => p === "") || /[\x00-\x1f\x7f*%]/.test(name)) return null;
  let id = 0;
  for (let i = 1; i <= parts.length; i++) {
    const path = parts.slice(0, i).join(SEPARATOR);
    id = (await find(path)) ?? (await createMailbox(tx, changes, accountId, path, null)).id;
  }
  return id;
}

/** Files one recipient's copy; returns one entry per membership written (none when discarded). */
export async function fileBySieve(
  tx: Tx,
  changes: ChangeRecorder,
  target: { accountId: number; junk: boolean; filing: SieveFiling },
  message: { raw: Uint8Array; summary: MessageSummary; blobHash: () => Promise<string> },
): Promise<Appended[]> {
  const stored: Appended[] = [];
  const seen = new Set<string>();
  const notice = target.filing.notice;
  if (notice) {
    await appendEmail(tx, changes, {
      accountId: target.accountId,
      mailbox: { role: "inbox" },
      raw: notice.raw,
      summary: notice.summary,
      blobHash: await putBlob(tx, notice.raw),
    });
  }
  const edited = target.filing.edited;
  if (edited) message = { ...edited, blobHash: () => putBlob(tx, edited.raw) };
  for (const d of target.filing.destinations) {
    const id = d.mailbox === null ? null : await mailboxId(tx, changes, target.accountId, d.mailbox, d.create);
    const key = id === null ? "default" : String(id);
    if (seen.has(key)) continue;
    seen.add(key);
    const flags = imapFlags(d.flags);
    const role = target.junk && d.mailbox === null ? "\\Junk" : "inbox";
    const first = stored[0];
    if (!first) {
      stored.push(
        await appendEmail(tx, changes, {
          accountId: target.accountId,
          mailbox: id ?? { role },
          raw: message.raw,
          summary: message.summary,
          blobHash: await message.blobHash(),
          flags,
        }),
      );
      continue;
    }
    // The same email joins another mailbox: one identity in the account, as with an IMAP COPY.
    const email = { id: first.emailId, accountId: target.accountId, size: first.size, threadId: first.threadId };
    const internalDate = new Date();
    const membership = await addMembership(
      tx,
      changes,
      email,
      id === null ? { role, flags, internalDate } : { mailboxId: id, flags, internalDate },
    );
    stored.push({ ...membership, blobHash: first.blobHash, size: first.size });
  }
  return stored;
}
