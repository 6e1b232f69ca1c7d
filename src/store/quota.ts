/**
 * Account quotas (`accounts.quota`, bytes; null means none). Usage is the size of every message
 * in the account's mailboxes, a message in two mailboxes counting twice, as IMAP's STORAGE
 * resource counts it (RFC 9208 §5.1). Writers check inside the transaction that would add the
 * message, so two concurrent appends cannot both slip under the limit.
 */
import { and, eq, sql } from "drizzle-orm";
import type { Db, Tx } from "./db.ts";
import { accounts, mailboxes, messages } from "./schema.ts";

/** Bytes stored in the account's mailboxes. */
export async function storageUsed(db: Db | Tx, accountId: number): Promise<number> {
  const [row] = await db
    .select({ used: sql<number>`coalesce(sum(${messages.size}), 0)` })
    .from(messages)
    .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId))
    .where(eq(mailboxes.accountId, accountId));
  return Number(row?.used ?? 0);
}

/** True when adding `bytes` would take the account over its quota; no sum is taken without one. */
export async function wouldExceedQuota(
  db: Db | Tx,
  accountId: number,
  bytes: number,
  quota?: number | null,
): Promise<boolean> {
  const limit = quota !== undefined
    ? quota
    : (await db.select({ quota: accounts.quota }).from(accounts).where(eq(accounts.id, accountId)))[0]?.quota;
  if (limit === null || limit === undefined) return false;
  return (await storageUsed(db, accountId)) + bytes > limit;
}

/**
 * True when copying these UIDs of a mailbox into another mailbox of the same account would take the
 * account over its quota: a copy counts again (RFC 9208 §5.1), so IMAP COPY answers NO [OVERQUOTA]
 * (§4.3) and JMAP's added mailbox `overQuota`. Accounts without a quota cost one lookup.
 */
export async function copyWouldExceedQuota(db: Db | Tx, mailboxId: number, uids: readonly number[]): Promise<boolean> {
  const [box] = await db
    .select({ accountId: mailboxes.accountId, quota: accounts.quota })
    .from(mailboxes)
    .innerJoin(accounts, eq(accounts.id, mailboxes.accountId))
    .where(eq(mailboxes.id, mailboxId));
  if (!box || box.quota === null) return false;
  const [copied] = await db
    .select({ bytes: sql<number>`coalesce(sum(${messages.size}), 0)` })
    .from(messages)
    .where(and(
      eq(messages.mailboxId, mailboxId),
      sql`${messages.uid} IN (SELECT value FROM json_each(${JSON.stringify([...uids])}))`,
    ));
  return wouldExceedQuota(db, box.accountId, Number(copied?.bytes ?? 0), box.quota);
}

/**
 * For /metrics (issue 20): the database's size (page_count × page_size: the main file, without the
 * WAL not yet checkpointed) and the bytes of every account's mail, the sum of each account's usage.
 */
export async function storageTotals(db: Db): Promise<{ databaseBytes: number; mailBytes: number }> {
  const [pages] = await db.all<{ bytes: number }>(
    sql`select page_count * page_size as bytes from pragma_page_count(), pragma_page_size()`,
  );
  const [mail] = await db
    .select({ used: sql<number>`coalesce(sum(${messages.size}), 0)` })
    .from(messages)
    .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId));
  return { databaseBytes: Number(pages?.bytes ?? 0), mailBytes: Number(mail?.used ?? 0) };
}
