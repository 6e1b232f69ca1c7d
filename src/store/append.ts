/**
 * Appending: the one way a message enters a mailbox, whichever protocol brought it (SMTP
 * delivery, IMAP APPEND, JMAP Email/import and Email/set create, Sieve later). It stores the blob
 * once, gives the email its identity and thread, adds its first mailbox membership with the next
 * UID, and logs the change, all inside the caller's transaction.
 */
import { createHash } from "node:crypto";
import { and, eq, inArray, lt, notExists, sql } from "drizzle-orm";
import { type MessageSummary, SUMMARY_VERSION } from "../mime/summary.ts";
import type { ChangeOp, ChangeRecorder } from "./change-log.ts";
import type { Db, Tx } from "./db.ts";
import { blobs, emails, mailboxes, messages, queue, uploads } from "./schema.ts";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Stores the raw bytes once; a blob already present is kept as it is. Returns its hash. */
export async function putBlob(tx: Tx, bytes: Uint8Array): Promise<string> {
  const hash = sha256Hex(bytes);
  await tx
    .insert(blobs)
    .values({ hash, size: bytes.byteLength, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) })
    .onConflictDoNothing();
  return hash;
}

/** What an email row carries into a new membership. */
export interface EmailRef {
  id: number;
  accountId: number;
  size: number;
  threadId: string;
}

/** One new membership: the mailbox's next UID, its MODSEQ from the change log. */
export interface Membership {
  emailId: number;
  threadId: string;
  accountId: number;
  mailboxId: number;
  uid: number;
  uidValidity: number;
  modseq: number;
}

/**
 * Adds an email to a mailbox. `op` is what happened to the email as JMAP sees it: "created" for
 * a new email, "updated" when an existing one joins another mailbox (a copy or a move).
 */
export async function addMembership(
  tx: Tx,
  changes: ChangeRecorder,
  email: EmailRef,
  target: { mailboxId: number; flags: readonly string[]; internalDate: Date },
  op: Extract<ChangeOp, "created" | "updated">,
): Promise<Membership> {
  const [box] = await tx
    .update(mailboxes)
    .set({ uidNext: sql`${mailboxes.uidNext} + 1` })
    .where(eq(mailboxes.id, target.mailboxId))
    .returning({ accountId: mailboxes.accountId, uidNext: mailboxes.uidNext, uidValidity: mailboxes.uidValidity });
  if (!box) throw new Error(`Mailbox ${target.mailboxId} does not exist`);
  if (box.accountId !== email.accountId) throw new Error(`Mailbox ${target.mailboxId} belongs to another account`);
  const uid = box.uidNext - 1;
  const modseq = await changes.add({
    accountId: email.accountId,
    mailboxId: target.mailboxId,
    type: "email",
    objectId: email.id,
    uid,
    threadId: email.threadId,
    op,
    mailboxOp: "created",
  });
  await tx.insert(messages).values({
    mailboxId: target.mailboxId,
    emailId: email.id,
    uid,
    modseq,
    size: email.size,
    flags: [...new Set(target.flags)],
    internalDate: target.internalDate,
  });
  await tx.update(mailboxes).set({ highestModseq: modseq }).where(eq(mailboxes.id, target.mailboxId));
  return {
    emailId: email.id,
    threadId: email.threadId,
    accountId: email.accountId,
    mailboxId: target.mailboxId,
    uid,
    uidValidity: box.uidValidity,
    modseq,
  };
}

export interface NewEmail {
  accountId: number;
  mailboxId: number;
  raw: Uint8Array;
  summary: MessageSummary;
  /** The blob's hash when the caller stored it already (one blob for many recipients). */
  blobHash?: string;
  flags?: readonly string[];
  receivedAt?: Date;
}

export interface Appended extends Membership {
  blobHash: string;
  size: number;
}

/** Creates an email with its first membership (see the file comment). */
export async function appendEmail(tx: Tx, changes: ChangeRecorder, input: NewEmail): Promise<Appended> {
  const blobHash = input.blobHash ?? (await putBlob(tx, input.raw));
  const receivedAt = input.receivedAt ?? new Date();
  const { summary } = input;
  const threadId = await threadIdFor(tx, input.accountId, summary);
  const [row] = await tx
    .insert(emails)
    .values({
      accountId: input.accountId,
      blobHash,
      size: input.raw.byteLength,
      receivedAt,
      summary,
      summaryVersion: SUMMARY_VERSION,
      messageId: summary.messageId,
      threadId,
      subject: summary.subject,
      sentAt: summary.sentAt === null ? null : new Date(summary.sentAt),
    })
    .returning({ id: emails.id });
  const email = { id: row!.id, accountId: input.accountId, size: input.raw.byteLength, threadId };
  const membership = await addMembership(tx, changes, email, {
    mailboxId: input.mailboxId,
    flags: input.flags ?? [],
    internalDate: receivedAt,
  }, "created");
  return { ...membership, blobHash, size: input.raw.byteLength };
}

/**
 * The thread of a new email (JMAP threadId): that of an earlier email of the account that it
 * names in References or In-Reply-To, or a new one (RFC 8621 §3 leaves the algorithm to the
 * server; this is the References-based one most use).
 */
export async function threadIdFor(
  db: Db | Tx,
  accountId: number,
  summary: Pick<MessageSummary, "messageId" | "inReplyTo" | "references">,
): Promise<string> {
  // A second copy of a message (same Message-ID) joins the first one's thread too.
  const own = summary.messageId ? [summary.messageId] : [];
  const related = [...new Set([...summary.references.slice(-49), ...summary.inReplyTo, ...own])];
  if (related.length > 0) {
    const [row] = await db
      .select({ threadId: emails.threadId })
      .from(emails)
      .where(and(eq(emails.accountId, accountId), inArray(emails.messageId, related)))
      .limit(1);
    if (row) return row.threadId;
  }
  const seed = summary.messageId ?? `${Date.now()}-${Math.random()}`;
  return `T${createHash("sha256").update(`${accountId}\0${seed}\0${Math.random()}`).digest("hex").slice(0, 16)}`;
}

/**
 * Deletes those of `hashes` that nothing refers to any more: no email, no queued message, no
 * live upload. Only the candidates are looked at, so an expunge never scans every blob.
 */
export async function collectBlobs(tx: Tx, hashes: Iterable<string>): Promise<void> {
  const candidates = [...new Set(hashes)];
  for (let i = 0; i < candidates.length; i += 500) {
    await tx
      .delete(blobs)
      .where(
        and(
          inArray(blobs.hash, candidates.slice(i, i + 500)),
          notExists(tx.select({ one: sql`1` }).from(emails).where(eq(emails.blobHash, blobs.hash))),
          notExists(tx.select({ one: sql`1` }).from(queue).where(eq(queue.blobHash, blobs.hash))),
          notExists(tx.select({ one: sql`1` }).from(uploads).where(eq(uploads.hash, blobs.hash))),
        ),
      );
  }
}

/** Drops expired JMAP uploads and the blobs only they kept alive. */
export async function expireUploads(tx: Tx, now = new Date()): Promise<void> {
  const expired = await tx.delete(uploads).where(lt(uploads.expiresAt, now)).returning({ hash: uploads.hash });
  await collectBlobs(tx, expired.map((u) => u.hash));
}
