/**
 * Appending: the one way a message enters a mailbox, whichever protocol brought it (SMTP
 * delivery, IMAP APPEND, JMAP Email/import and Email/set create, Sieve later). It stores the blob
 * once, gives the email its identity and thread, adds its first mailbox membership with the next
 * UID, and logs the change, all inside the caller's transaction.
 */
import { createHash } from "node:crypto";
import { and, eq, inArray, lt, notExists, sql } from "drizzle-orm";
import { type MessageSummary, SUMMARY_VERSION } from "../mime/summary.ts";
import { type ChangeRecorder, NEXT_CHANGE_ID_SQL } from "./change-log.ts";
import type { Tx } from "./db.ts";
import { rowsOf, runStatement } from "./prepared.ts";
import { blobs, emails, queue, uploads } from "./schema.ts";

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

// The delivery path's statements (prepared.ts): fixed texts, so each is prepared once per connection.
const INSERT_BLOB = "INSERT INTO blobs (hash, size, data) VALUES (?, ?, ?) ON CONFLICT DO NOTHING";
const INSERT_EMAIL =
  `INSERT INTO emails (account_id, blob_hash, size, received_at, summary, summary_version, message_id,
    thread_id, subject, sent_at)
  VALUES (?, ?, ?, ?, ?, ?, ?,
    coalesce((SELECT thread_id FROM emails WHERE account_id = ? AND message_id IN (SELECT value FROM json_each(?)) LIMIT 1), ?),
    ?, ?)
  RETURNING id, thread_id`;
const INSERT_MEMBERSHIP = (which: string) =>
  `INSERT INTO messages (mailbox_id, email_id, uid, modseq, size, flags, internal_date)
  SELECT id, ?, uid_next, ${NEXT_CHANGE_ID_SQL}, ?, ?, ? FROM mailboxes WHERE ${which}
  RETURNING mailbox_id, uid, modseq, (SELECT uid_validity FROM mailboxes WHERE id = mailbox_id)`;
const INTO_MAILBOX = INSERT_MEMBERSHIP("id = ? AND account_id = ?");
const INTO_ROLE = INSERT_MEMBERSHIP("account_id = ? AND role IN (?, 'inbox') ORDER BY role = 'inbox' LIMIT 1");

const NOTHING = Buffer.alloc(0);
/** Blobs from this size on are unbound from the kept statement after their insert. */
const LARGE_BLOB = 1 << 20;

/** Stores the raw bytes once; a blob already present is kept as it is. Returns its hash. */
export async function putBlob(tx: Tx, bytes: Uint8Array): Promise<string> {
  const hash = sha256Hex(bytes);
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  await runStatement(tx, INSERT_BLOB, [hash, bytes.byteLength, data]);
  if (bytes.byteLength >= LARGE_BLOB) {
    // A kept statement holds a copy of its last parameters until it is bound again (src/store/connections.ts):
    // a 20 MiB message stayed in memory, twice over, until the next delivery. Running it again with the same
    // hash conflicts (nothing is written) and binds an empty blob instead. Measured: ten 20 MiB deliveries left
    // RSS 81 MiB higher without this, 1 MiB with it.
    await runStatement(tx, INSERT_BLOB, [hash, bytes.byteLength, NOTHING]);
  }
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

/** Where a new membership goes: a mailbox by id, or an account's INBOX or Junk (then INBOX if it has none). */
export type MembershipTarget =
  | { mailboxId: number; flags: readonly string[]; internalDate: Date }
  | { role: "inbox" | "\\Junk"; flags: readonly string[]; internalDate: Date };

/**
 * Adds an email to a mailbox: one statement. The membership takes the mailbox's next UID and the
 * next change id (its MODSEQ) inside its own INSERT, and a trigger (migration 0009) moves the
 * mailbox's UIDNEXT and HIGHESTMODSEQ past them and logs the change: for JMAP the email is
 * "created" when this is its only membership, "updated" when it joined another mailbox (a copy or
 * a move); for IMAP the membership is "created" here.
 */
export async function addMembership(
  tx: Tx,
  changes: ChangeRecorder,
  email: EmailRef,
  target: MembershipTarget,
): Promise<Membership> {
  const flags = JSON.stringify([...new Set(target.flags)]);
  const values = [email.id, email.size, flags, target.internalDate.getTime()];
  const [row] = "mailboxId" in target
    ? await rowsOf(tx, INTO_MAILBOX, [...values, target.mailboxId, email.accountId])
    : await rowsOf(tx, INTO_ROLE, [...values, email.accountId, target.role]);
  if (!row) {
    throw new Error(
      "mailboxId" in target
        ? `Mailbox ${target.mailboxId} does not exist in account ${email.accountId}`
        : `Account ${email.accountId} has no INBOX`,
    );
  }
  const [mailboxId, uid, modseq, uidValidity] = row as number[];
  changes.logged(email.accountId, mailboxId!, modseq!);
  return {
    emailId: email.id,
    threadId: email.threadId,
    accountId: email.accountId,
    mailboxId: mailboxId!,
    uid: uid!,
    uidValidity: uidValidity!,
    modseq: modseq!,
  };
}

export interface NewEmail {
  accountId: number;
  /** The mailbox, or the account's INBOX (`{ role: "inbox" }`) or Junk. */
  mailbox: number | { role: "inbox" | "\\Junk" };
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
  // The thread's candidates travel as one JSON parameter, so the text is the same for every message.
  const [row] = await rowsOf(tx, INSERT_EMAIL, [
    input.accountId,
    blobHash,
    input.raw.byteLength,
    receivedAt.getTime(),
    JSON.stringify(summary),
    SUMMARY_VERSION,
    summary.messageId,
    ...threadOf(input.accountId, summary),
    summary.subject,
    summary.sentAt === null ? null : new Date(summary.sentAt).getTime(),
  ]);
  const [id, threadId] = row as [number, string];
  const email = { id, accountId: input.accountId, size: input.raw.byteLength, threadId };
  const flags = input.flags ?? [];
  const membership = await addMembership(
    tx,
    changes,
    email,
    typeof input.mailbox === "number"
      ? { mailboxId: input.mailbox, flags, internalDate: receivedAt }
      : { role: input.mailbox.role, flags, internalDate: receivedAt },
  );
  return { ...membership, blobHash, size: input.raw.byteLength };
}

/**
 * The thread of a new email (JMAP threadId), as the arguments of INSERT_EMAIL's thread expression: that of an earlier
 * email of the account that it names in References or In-Reply-To, or a new one (RFC 8621 §3 leaves the algorithm
 * to the server; this is the References-based one most use).
 */
function threadOf(
  accountId: number,
  summary: Pick<MessageSummary, "messageId" | "inReplyTo" | "references">,
): [number, string, string] {
  // A second copy of a message (same Message-ID) joins the first one's thread too.
  const own = summary.messageId ? [summary.messageId] : [];
  const related = [...new Set([...summary.references.slice(-49), ...summary.inReplyTo, ...own])];
  const seed = summary.messageId ?? `${Date.now()}-${Math.random()}`;
  const fresh = `T${createHash("sha256").update(`${accountId}\0${seed}\0${Math.random()}`).digest("hex").slice(0, 16)}`;
  return [accountId, JSON.stringify(related), fresh];
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
