/**
 * The outbound queue's rows: a message (blob and envelope) with its recipients, each with its own
 * status, attempts and next attempt. Written at delivery (inside the delivery's transaction),
 * claimed and updated by the queue runner, inspected through the REST API.
 *
 * Several processes may share one database, so a runner claims the recipients it is about to
 * deliver: `claim` leases due rows to an owner (`store.instanceId`) until a deadline in one
 * statement, and only that owner's `record` counts. A lease whose process died expires and is
 * taken over by the next claim.
 */
import { and, asc, eq, inArray, isNotNull, isNull, lt, lte, min, or, sql } from "drizzle-orm";
import { collectBlobs } from "./append.ts";
import type { Db, Tx } from "./db.ts";
import { blobs, queue, queueRecipients } from "./schema.ts";
import { recordQueueOutcome } from "./submissions.ts";
import type { Store } from "./store.ts";

export type QueuedMessage = typeof queue.$inferSelect;
export type QueuedRecipient = typeof queueRecipients.$inferSelect;

/** A queued message as `postern queue list` and the REST API show it. */
export type QueueListing = QueuedMessage & { size: number; recipients: QueuedRecipient[] };

export interface NewQueueEntry {
  sender: string;
  envid?: string;
  ret?: "FULL" | "HDRS";
  accountId?: number;
  recipients: Array<{ address: string; notify?: readonly string[]; orcpt?: string }>;
}

/** Adds a queued message and its recipients, inside a delivery's transaction. */
export async function enqueue(tx: Tx, blobHash: string, entry: NewQueueEntry): Promise<number> {
  const [row] = await tx
    .insert(queue)
    .values({ blobHash, sender: entry.sender, envid: entry.envid, ret: entry.ret, accountId: entry.accountId })
    .returning({ id: queue.id });
  await tx.insert(queueRecipients).values(
    entry.recipients.map((r) => ({
      queueId: row!.id,
      recipient: r.address,
      notify: r.notify?.join(","),
      orcpt: r.orcpt,
    })),
  );
  return row!.id;
}

/** The outcome of one attempt for one recipient. */
export interface AttemptOutcome {
  recipientId: number;
  status: "delivered" | "failed" | "pending";
  attempts: number;
  lastReply: string;
  nextAttemptAt: Date;
  delayNotified?: boolean;
}

export class QueueRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /**
   * Leases up to `limit` due pending recipients that nobody holds (or whose lease ended before
   * `now`) to `owner` until `now + leaseMs`, oldest due first. One UPDATE … WHERE id IN (SELECT …)
   * RETURNING: SQLite runs it under the database's write lock, so two processes never claim the
   * same row.
   */
  async claim(owner: string, now: Date, leaseMs: number, limit = 500): Promise<QueuedRecipient[]> {
    const claimed = await this.store.write((tx) => {
      const due = tx
        .select({ id: queueRecipients.id })
        .from(queueRecipients)
        .where(
          and(
            eq(queueRecipients.status, "pending"),
            lte(queueRecipients.nextAttemptAt, now),
            or(isNull(queueRecipients.leaseUntil), lt(queueRecipients.leaseUntil, now)),
          ),
        )
        .orderBy(asc(queueRecipients.nextAttemptAt), asc(queueRecipients.id))
        .limit(limit);
      return tx
        .update(queueRecipients)
        .set({ leaseOwner: owner, leaseUntil: new Date(now.getTime() + leaseMs) })
        .where(inArray(queueRecipients.id, due))
        .returning();
    });
    // RETURNING gives no order; keep the oldest due first.
    return claimed.sort((a, b) => a.nextAttemptAt.getTime() - b.nextAttemptAt.getTime() || a.id - b.id);
  }

  /** Extends `owner`'s leases on these recipients to `until` (an attempt still running). */
  async renew(owner: string, recipientIds: readonly number[], until: Date): Promise<void> {
    if (!recipientIds.length) return;
    await this.store.write((tx) =>
      tx
        .update(queueRecipients)
        .set({ leaseUntil: until })
        .where(and(inArray(queueRecipients.id, [...recipientIds]), eq(queueRecipients.leaseOwner, owner)))
    );
  }

  /** The owners holding leases now (to find those whose process is gone). */
  async leaseOwners(): Promise<string[]> {
    const rows = await this.db
      .selectDistinct({ owner: queueRecipients.leaseOwner })
      .from(queueRecipients)
      .where(isNotNull(queueRecipients.leaseOwner));
    return rows.map((r) => r.owner!);
  }

  /** Ends every lease of these owners (their process is gone); the recipients are due as they were. */
  async releaseOwners(owners: readonly string[]): Promise<void> {
    if (!owners.length) return;
    await this.store.write((tx) =>
      tx
        .update(queueRecipients)
        .set({ leaseOwner: null, leaseUntil: null })
        .where(inArray(queueRecipients.leaseOwner, [...owners]))
    );
  }

  /** Gives back `owner`'s leases on these recipients (an attempt that could not run), due again at once. */
  async release(owner: string, recipientIds: readonly number[]): Promise<void> {
    if (!recipientIds.length) return;
    await this.store.write((tx) =>
      tx
        .update(queueRecipients)
        .set({ leaseOwner: null, leaseUntil: null })
        .where(and(inArray(queueRecipients.id, [...recipientIds]), eq(queueRecipients.leaseOwner, owner)))
    );
  }

  async message(id: number): Promise<QueuedMessage | undefined> {
    const [row] = await this.db.select().from(queue).where(eq(queue.id, id));
    return row;
  }

  /** Queued messages with their size and recipients (all, or one), oldest first, at most 1,000. */
  async list(id?: number): Promise<QueueListing[]> {
    const rows = await this.db
      .select({ message: queue, size: blobs.size })
      .from(queue)
      .innerJoin(blobs, eq(blobs.hash, queue.blobHash))
      .where(id === undefined ? undefined : eq(queue.id, id))
      .orderBy(asc(queue.id))
      .limit(1000);
    const out = [];
    for (const { message, size } of rows) {
      out.push({
        ...message,
        size,
        recipients: await this.db
          .select()
          .from(queueRecipients)
          .where(eq(queueRecipients.queueId, message.id))
          .orderBy(asc(queueRecipients.id)),
      });
    }
    return out;
  }

  /** How many messages wait in the queue, and when the oldest arrived (for /metrics). */
  async stats(): Promise<{ messages: number; oldest: Date | null }> {
    const [row] = await this.db.select({ messages: sql<number>`count(*)`, oldest: min(queue.createdAt) }).from(queue);
    return { messages: Number(row?.messages ?? 0), oldest: row?.oldest ?? null };
  }

  /**
   * Records `owner`'s attempts and ends its leases; returns the ids of the recipients recorded. A
   * recipient no longer leased to `owner` (its lease ran out and another process claimed it) is
   * left alone, so a late outcome never overwrites the new owner's. A message with no pending
   * recipient left leaves the queue, and its blob with it unless a mailbox holds it.
   */
  record(owner: string, queueId: number, outcomes: readonly AttemptOutcome[]): Promise<number[]> {
    return this.store.write(async (tx, changes) => {
      const recorded: number[] = [];
      for (const o of outcomes) {
        const rows = await tx
          .update(queueRecipients)
          .set({
            // A recipient held while its attempt ran stays held if that attempt only deferred it.
            status: o.status === "pending"
              ? sql`CASE ${queueRecipients.status} WHEN 'held' THEN 'held' ELSE 'pending' END`
              : o.status,
            attempts: o.attempts,
            lastReply: o.lastReply,
            nextAttemptAt: o.nextAttemptAt,
            leaseOwner: null,
            leaseUntil: null,
            ...(o.delayNotified ? { delayNotified: true } : {}),
          })
          .where(and(eq(queueRecipients.id, o.recipientId), eq(queueRecipients.leaseOwner, owner)))
          .returning({ id: queueRecipients.id });
        if (rows.length) recorded.push(o.recipientId);
      }
      // JMAP EmailSubmission deliveryStatus follows (RFC 8621 §7), before the rows may go.
      if (recorded.length) await recordQueueOutcome(tx, changes, queueId);
      const [left] = await tx
        .select({ id: queueRecipients.id })
        .from(queueRecipients)
        .where(and(eq(queueRecipients.queueId, queueId), inArray(queueRecipients.status, ["pending", "held"])))
        .limit(1);
      if (!left) await this.#drop(tx, queueId);
      return recorded;
    });
  }

  /** Makes every pending recipient of a message due now, and frees the leases that have run out. */
  async retryNow(queueId: number): Promise<void> {
    const now = new Date();
    await this.store.write(async (tx) => {
      await tx.update(queueRecipients).set({ nextAttemptAt: now }).where(eq(queueRecipients.queueId, queueId));
      await tx
        .update(queueRecipients)
        .set({ leaseOwner: null, leaseUntil: null })
        .where(and(eq(queueRecipients.queueId, queueId), lt(queueRecipients.leaseUntil, now)));
    });
  }

  /** Makes every pending recipient of every queued message due now (`postern queue retry --all`). */
  async retryAll(): Promise<number> {
    const now = new Date();
    return await this.store.write(async (tx) => {
      const due = await tx
        .update(queueRecipients)
        .set({ nextAttemptAt: now })
        .where(eq(queueRecipients.status, "pending"))
        .returning({ id: queueRecipients.id });
      await tx
        .update(queueRecipients)
        .set({ leaseOwner: null, leaseUntil: null })
        .where(lt(queueRecipients.leaseUntil, now));
      return due.length;
    });
  }

  /**
   * Keeps a message's pending recipients out of delivery until `releaseHeld` (Postfix's `postsuper -h`).
   * An attempt already running finishes; if it only defers, the recipient stays held.
   */
  async hold(queueId: number): Promise<number> {
    const rows = await this.store.write((tx) =>
      tx
        .update(queueRecipients)
        .set({ status: "held" })
        .where(and(eq(queueRecipients.queueId, queueId), eq(queueRecipients.status, "pending")))
        .returning({ id: queueRecipients.id })
    );
    return rows.length;
  }

  /** Gives a held message's recipients back to delivery, due now. */
  async releaseHeld(queueId: number): Promise<number> {
    const rows = await this.store.write((tx) =>
      tx
        .update(queueRecipients)
        .set({ status: "pending", nextAttemptAt: new Date() })
        .where(and(eq(queueRecipients.queueId, queueId), eq(queueRecipients.status, "held")))
        .returning({ id: queueRecipients.id })
    );
    return rows.length;
  }

  /** Drops a queued message without a bounce. */
  drop(queueId: number): Promise<void> {
    return this.store.write((tx) => this.#drop(tx, queueId));
  }

  async #drop(tx: Tx, queueId: number): Promise<void> {
    const gone = await tx.delete(queue).where(eq(queue.id, queueId)).returning({ blobHash: queue.blobHash });
    await collectBlobs(tx, gone.map((g) => g.blobHash));
  }
}
