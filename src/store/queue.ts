/**
 * The outbound queue's rows: a message (blob and envelope) with its recipients, each with its own
 * status, attempts and next attempt. Written at delivery (inside the delivery's transaction),
 * read and updated by the queue runner, inspected through the REST API.
 */
import { and, asc, eq, lte } from "drizzle-orm";
import { collectBlobs } from "./append.ts";
import type { Db, Tx } from "./db.ts";
import { queue, queueRecipients } from "./schema.ts";
import type { Store } from "./store.ts";

export type QueuedMessage = typeof queue.$inferSelect;
export type QueuedRecipient = typeof queueRecipients.$inferSelect;

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

  /** Pending recipients whose next attempt is due, oldest due first. */
  due(now: Date, limit = 500): Promise<QueuedRecipient[]> {
    return this.db
      .select()
      .from(queueRecipients)
      .where(and(eq(queueRecipients.status, "pending"), lte(queueRecipients.nextAttemptAt, now)))
      .orderBy(asc(queueRecipients.nextAttemptAt))
      .limit(limit);
  }

  async message(id: number): Promise<QueuedMessage | undefined> {
    const [row] = await this.db.select().from(queue).where(eq(queue.id, id));
    return row;
  }

  /** Queued messages with their recipients (all, or one), oldest first, at most 1,000. */
  async list(id?: number): Promise<Array<QueuedMessage & { recipients: QueuedRecipient[] }>> {
    const rows = await this.db.select().from(queue).where(id === undefined ? undefined : eq(queue.id, id)).orderBy(
      asc(queue.id),
    ).limit(1000);
    const out = [];
    for (const row of rows) {
      out.push({
        ...row,
        recipients: await this.db.select().from(queueRecipients).where(eq(queueRecipients.queueId, row.id)),
      });
    }
    return out;
  }

  /**
   * Records attempts; a message with no pending recipient left leaves the queue, and its blob
   * with it unless a mailbox holds it.
   */
  record(queueId: number, outcomes: readonly AttemptOutcome[]): Promise<void> {
    return this.store.write(async (tx) => {
      for (const o of outcomes) {
        await tx
          .update(queueRecipients)
          .set({
            status: o.status,
            attempts: o.attempts,
            lastReply: o.lastReply,
            nextAttemptAt: o.nextAttemptAt,
            ...(o.delayNotified ? { delayNotified: true } : {}),
          })
          .where(eq(queueRecipients.id, o.recipientId));
      }
      const [left] = await tx
        .select({ id: queueRecipients.id })
        .from(queueRecipients)
        .where(and(eq(queueRecipients.queueId, queueId), eq(queueRecipients.status, "pending")))
        .limit(1);
      if (!left) await this.#drop(tx, queueId);
    });
  }

  /** Makes every pending recipient of a message due now. */
  async retryNow(queueId: number): Promise<void> {
    await this.store.write((tx) =>
      tx.update(queueRecipients).set({ nextAttemptAt: new Date() }).where(eq(queueRecipients.queueId, queueId))
    );
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
