import { createHash } from "node:crypto";
import { and, eq, inArray, lt, notExists, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { blobs, changes, mailboxes, messages, queue, uploads } from "./schema.ts";
import type { Store } from "./store.ts";

export type MessageRow = typeof messages.$inferSelect;

export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** What is known about a message before it is stored: computed once, at delivery. */
export interface MessageMeta {
  summary: Record<string, unknown>;
  messageId?: string | null;
  threadId?: string | null;
  subject?: string | null;
  sentAt?: Date | null;
}

export interface AppendInput extends MessageMeta {
  mailboxId: number;
  flags?: string[];
  internalDate?: Date;
}

export interface Appended {
  id: number;
  mailboxId: number;
  accountId: number;
  uid: number;
  modseq: number;
  uidValidity: number;
}

export interface FlagState {
  uid: number;
  flags: string[];
  modseq: number;
}

export interface StoreFlagsResult {
  /** Messages whose flags changed, with their new MODSEQ. */
  updated: FlagState[];
  /** Messages the STORE asked for whose flags were already so. */
  unchanged: FlagState[];
  /** UIDs refused by UNCHANGEDSINCE (reported as MODIFIED). */
  modified: number[];
  accountId: number | null;
}

export class MessageRepository {
  constructor(private readonly store: Store) {}

  /** Stores the raw bytes once; a blob already present is kept as it is. Returns its hash. */
  async putBlob(tx: Tx, bytes: Uint8Array): Promise<string> {
    const hash = sha256Hex(bytes);
    await tx.insert(blobs).values({ hash, size: bytes.byteLength, data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) }).onConflictDoNothing();
    return hash;
  }

  /**
   * Adds a message row for an already stored blob: takes the mailbox's next UID, logs the change
   * (whose id is the row's MODSEQ) and raises the mailbox's UIDNEXT and HIGHESTMODSEQ.
   */
  async append(tx: Tx, blobHash: string, size: number, input: AppendInput): Promise<Appended> {
    const [box] = await tx
      .update(mailboxes)
      .set({ uidNext: sql`${mailboxes.uidNext} + 1` })
      .where(eq(mailboxes.id, input.mailboxId))
      .returning({ accountId: mailboxes.accountId, uidNext: mailboxes.uidNext, uidValidity: mailboxes.uidValidity });
    if (!box) throw new Error(`Mailbox ${input.mailboxId} does not exist`);
    const uid = box.uidNext - 1;
    const [row] = await tx
      .insert(messages)
      .values({
        mailboxId: input.mailboxId,
        uid,
        modseq: 0,
        blobHash,
        size,
        flags: input.flags ?? [],
        internalDate: input.internalDate ?? new Date(),
        summary: input.summary,
        messageId: input.messageId ?? null,
        threadId: input.threadId ?? null,
        subject: input.subject ?? null,
        sentAt: input.sentAt ?? null,
      })
      .returning({ id: messages.id });
    const [change] = await tx
      .insert(changes)
      .values({ accountId: box.accountId, mailboxId: input.mailboxId, type: "email", objectId: row!.id, uid, threadId: input.threadId ?? null, op: "created" })
      .returning({ id: changes.id });
    const modseq = change!.id;
    await tx.update(messages).set({ modseq }).where(eq(messages.id, row!.id));
    await tx.update(mailboxes).set({ highestModseq: modseq }).where(eq(mailboxes.id, input.mailboxId));
    return { id: row!.id, mailboxId: input.mailboxId, accountId: box.accountId, uid, modseq, uidValidity: box.uidValidity };
  }

  /** Reads a stored message's raw bytes. */
  async readBlob(hash: string): Promise<Uint8Array | undefined> {
    const [row] = await this.store.db.select({ data: blobs.data }).from(blobs).where(eq(blobs.hash, hash));
    return row ? new Uint8Array(row.data) : undefined;
  }

  async listMailbox(mailboxId: number): Promise<MessageRow[]> {
    return this.store.db.select().from(messages).where(eq(messages.mailboxId, mailboxId)).orderBy(messages.uid);
  }

  async get(mailboxId: number, uid: number): Promise<MessageRow | undefined> {
    const [row] = await this.store.db
      .select()
      .from(messages)
      .where(and(eq(messages.mailboxId, mailboxId), eq(messages.uid, uid)));
    return row;
  }

  /**
   * Removes messages from a mailbox (IMAP EXPUNGE, POP3 UPDATE): logs a "destroyed" change per
   * message, keeping its uid for VANISHED, raises HIGHESTMODSEQ and drops orphaned blobs.
   * Returns the newest MODSEQ, or null when none of the uids existed.
   */
  async expunge(tx: Tx, mailboxId: number, uids: readonly number[]): Promise<{ accountId: number; modseq: number } | null> {
    if (uids.length === 0) return null;
    const rows = await tx
      .select({ id: messages.id, uid: messages.uid, threadId: messages.threadId, accountId: mailboxes.accountId })
      .from(messages)
      .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId))
      .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, [...uids])));
    if (rows.length === 0) return null;
    const logged = await tx
      .insert(changes)
      .values(rows.map((r) => ({ accountId: r.accountId, mailboxId, type: "email" as const, objectId: r.id, uid: r.uid, threadId: r.threadId, op: "destroyed" as const })))
      .returning({ id: changes.id });
    const modseq = Math.max(...logged.map((c) => c.id));
    await tx.delete(messages).where(inArray(messages.id, rows.map((r) => r.id)));
    await tx.update(mailboxes).set({ highestModseq: modseq }).where(eq(mailboxes.id, mailboxId));
    await this.collectGarbage(tx);
    return { accountId: rows[0]!.accountId, modseq };
  }

  /** Adds flags to messages (e.g. \Seen after POP3 RETR). */
  async addFlags(tx: Tx, mailboxId: number, uids: readonly number[], add: readonly string[]): Promise<{ accountId: number; modseq: number } | null> {
    const { updated, accountId } = await this.storeFlags(tx, mailboxId, uids, "add", add, null);
    return updated.length && accountId !== null ? { accountId, modseq: Math.max(...updated.map((u) => u.modseq)) } : null;
  }

  /**
   * IMAP STORE (RFC 9051 §6.4.6) with CONDSTORE's UNCHANGEDSINCE (RFC 7162 §3.1.3): sets, adds or
   * removes flags; a message whose MODSEQ is above `unchangedSince` is left alone and reported
   * in `modified`. Each message that changed gets an "updated" change and a new MODSEQ.
   */
  async storeFlags(
    tx: Tx,
    mailboxId: number,
    uids: readonly number[],
    mode: "set" | "add" | "remove",
    flags: readonly string[],
    unchangedSince: number | null,
  ): Promise<StoreFlagsResult> {
    const rows = uids.length
      ? await tx
          .select({ id: messages.id, uid: messages.uid, flags: messages.flags, modseq: messages.modseq, accountId: mailboxes.accountId })
          .from(messages)
          .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId))
          .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, [...uids])))
          .orderBy(messages.uid)
      : [];
    const result: StoreFlagsResult = { updated: [], unchanged: [], modified: [], accountId: rows[0]?.accountId ?? null };
    for (const row of rows) {
      if (unchangedSince !== null && row.modseq > unchangedSince) {
        result.modified.push(row.uid);
        continue;
      }
      const next = mode === "set" ? [...new Set(flags)] : mode === "add" ? [...new Set([...row.flags, ...flags])] : row.flags.filter((f) => !flags.includes(f));
      if (next.length === row.flags.length && next.every((f) => row.flags.includes(f))) {
        result.unchanged.push({ uid: row.uid, flags: row.flags, modseq: row.modseq });
        continue;
      }
      const [change] = await tx
        .insert(changes)
        .values({ accountId: row.accountId, mailboxId, type: "email", objectId: row.id, uid: row.uid, op: "updated" })
        .returning({ id: changes.id });
      await tx.update(messages).set({ flags: next, modseq: change!.id }).where(eq(messages.id, row.id));
      await tx.update(mailboxes).set({ highestModseq: change!.id }).where(eq(mailboxes.id, mailboxId));
      result.updated.push({ uid: row.uid, flags: next, modseq: change!.id });
    }
    return result;
  }

  /**
   * Copies messages to another mailbox (IMAP COPY, and MOVE before its expunge): new rows with
   * new UIDs pointing at the same blobs, flags and internal dates kept. Returns the UID pairs
   * in source order for COPYUID (RFC 4315 §3).
   */
  async copy(tx: Tx, from: number, uids: readonly number[], to: number): Promise<{ source: number[]; destination: number[]; uidValidity: number; last: Appended | null }> {
    const rows = uids.length
      ? await tx.select().from(messages).where(and(eq(messages.mailboxId, from), inArray(messages.uid, [...uids]))).orderBy(messages.uid)
      : [];
    const source: number[] = [];
    const destination: number[] = [];
    let last: Appended | null = null;
    for (const row of rows) {
      last = await this.append(tx, row.blobHash, row.size, {
        mailboxId: to,
        summary: row.summary,
        flags: row.flags,
        internalDate: row.internalDate,
        messageId: row.messageId,
        threadId: row.threadId,
        subject: row.subject,
        sentAt: row.sentAt,
      });
      source.push(row.uid);
      destination.push(last.uid);
    }
    const [box] = await tx.select({ uidValidity: mailboxes.uidValidity }).from(mailboxes).where(eq(mailboxes.id, to));
    return { source, destination, uidValidity: box?.uidValidity ?? 0, last };
  }

  /** Keeps an uploaded blob for `ttlMs` even if no message uses it (JMAP upload, RFC 8620 §6.1). */
  async holdUpload(tx: Tx, hash: string, accountId: number, ttlMs = 24 * 3600_000): Promise<void> {
    const expiresAt = new Date(Date.now() + ttlMs);
    await tx.insert(uploads).values({ hash, accountId, expiresAt }).onConflictDoUpdate({ target: uploads.hash, set: { expiresAt, accountId } });
  }

  /** Deletes blobs that no message, no queued item and no live upload refers to any more. */
  async collectGarbage(tx: Tx): Promise<void> {
    await tx.delete(uploads).where(lt(uploads.expiresAt, new Date()));
    await tx
      .delete(blobs)
      .where(
        and(
          notExists(tx.select({ one: sql`1` }).from(messages).where(eq(messages.blobHash, blobs.hash))),
          notExists(tx.select({ one: sql`1` }).from(queue).where(eq(queue.blobHash, blobs.hash))),
          notExists(tx.select({ one: sql`1` }).from(uploads).where(eq(uploads.hash, blobs.hash))),
        ),
      );
  }
}
