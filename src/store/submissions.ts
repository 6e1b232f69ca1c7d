/**
 * JMAP EmailSubmissions (RFC 8621 §7), kept in the database so they outlive a restart. Each
 * records its envelope and, per recipient, how delivery went (§7 DeliveryStatus): local
 * recipients have their copy at once; remote ones are "queued" until the outbound queue records
 * an outcome for them (`recordQueueOutcome`, called by the queue in the same transaction).
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import type { ChangeRecorder } from "./change-log.ts";
import type { Db, Tx } from "./db.ts";
import { emailSubmissions, queueRecipients } from "./schema.ts";
import type { Store } from "./store.ts";

export type EmailSubmission = typeof emailSubmissions.$inferSelect;
export type DeliveryStatus = EmailSubmission["deliveryStatus"];
export type NewEmailSubmission = Omit<EmailSubmission, "id" | "accountId" | "deliveryStatus" | "undoStatus">;

export class SubmissionRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** The account's submissions among `ids` (all without), oldest first. */
  async list(accountId: number, ids?: readonly number[]): Promise<EmailSubmission[]> {
    if (ids?.length === 0) return [];
    const mine = eq(emailSubmissions.accountId, accountId);
    return this.db.select().from(emailSubmissions)
      .where(ids ? and(mine, inArray(emailSubmissions.id, [...ids])) : mine)
      .orderBy(asc(emailSubmissions.id));
  }

  /** Records a submission delivery accepted; its status is read from the queue as it stands. */
  create(accountId: number, input: NewEmailSubmission): Promise<EmailSubmission> {
    return this.store.write(async (tx, changes) => {
      const deliveryStatus = await statusFromQueue(tx, input.queueId, input.envelope.rcptTo.map((r) => r.email), {});
      const [row] = await tx.insert(emailSubmissions)
        .values({ ...input, accountId, undoStatus: "final", deliveryStatus })
        .returning();
      await changes.add({ accountId, mailboxId: null, type: "submission", objectId: row!.id, op: "created" });
      return row!;
    });
  }

  /** Forgets a submission (the message stays sent); false when the account has none such. */
  destroy(accountId: number, id: number): Promise<boolean> {
    return this.store.write(async (tx, changes) => {
      const gone = await tx.delete(emailSubmissions)
        .where(and(eq(emailSubmissions.id, id), eq(emailSubmissions.accountId, accountId)))
        .returning({ id: emailSubmissions.id });
      if (!gone.length) return false;
      await changes.add({ accountId, mailboxId: null, type: "submission", objectId: id, op: "destroyed" });
      return true;
    });
  }
}

const DELIVERED = { smtpReply: "250 2.0.0 Delivered", delivered: "yes", displayed: "unknown" } as const;

/**
 * Each recipient's status: from its queue row when it has one (pending → queued, delivered → yes,
 * failed → no, with the last reply), else delivered locally (or as `before` had it).
 */
async function statusFromQueue(
  tx: Tx,
  queueId: number | null,
  recipients: readonly string[],
  before: DeliveryStatus,
): Promise<DeliveryStatus> {
  const rows = queueId === null ? [] : await tx.select().from(queueRecipients).where(
    eq(queueRecipients.queueId, queueId),
  );
  const byAddress = new Map(rows.map((r) => [r.recipient.toLowerCase(), r]));
  const out: DeliveryStatus = {};
  for (const email of recipients) {
    const row = byAddress.get(email.toLowerCase());
    if (!row) {
      out[email] = before[email] ?? { ...DELIVERED };
      continue;
    }
    const delivered = row.status === "pending" ? "queued" : row.status === "delivered" ? "yes" : "no";
    out[email] = {
      smtpReply: row.lastReply ?? "250 2.0.0 Queued for delivery",
      delivered,
      displayed: "unknown",
    };
  }
  return out;
}

/**
 * The queue recorded attempts for `queueId`: the submissions that handed it their remote
 * recipients take the new statuses, logged as updates for EmailSubmission/changes.
 */
export async function recordQueueOutcome(tx: Tx, changes: ChangeRecorder, queueId: number): Promise<void> {
  const rows = await tx.select().from(emailSubmissions).where(eq(emailSubmissions.queueId, queueId));
  for (const row of rows) {
    const deliveryStatus = await statusFromQueue(
      tx,
      queueId,
      row.envelope.rcptTo.map((r) => r.email),
      row.deliveryStatus,
    );
    if (JSON.stringify(deliveryStatus) === JSON.stringify(row.deliveryStatus)) continue;
    await tx.update(emailSubmissions).set({ deliveryStatus }).where(eq(emailSubmissions.id, row.id));
    await changes.add({
      accountId: row.accountId,
      mailboxId: null,
      type: "submission",
      objectId: row.id,
      op: "updated",
    });
  }
}
