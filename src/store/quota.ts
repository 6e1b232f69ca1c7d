/**
 * Account quotas (`accounts.quota`, bytes; null means none). Usage is the size of every message
 * in the account's mailboxes, a message in two mailboxes counting twice, as IMAP's STORAGE
 * resource counts it (RFC 9208 §5.1). Writers check inside the transaction that would add the
 * message, so two concurrent appends cannot both slip under the limit.
 */
import { eq, sql } from "drizzle-orm";
import type { Db, Tx } from "./db.ts";
import { accounts, mailboxes, messages } from "./schema.ts";

export interface QuotaState {
  /** Bytes stored. */
  used: number;
  /** Bytes allowed; null when the account has no quota. */
  limit: number | null;
}

export async function quotaState(db: Db | Tx, accountId: number): Promise<QuotaState> {
  const [account] = await db.select({ quota: accounts.quota }).from(accounts).where(eq(accounts.id, accountId));
  const [row] = await db
    .select({ used: sql<number>`coalesce(sum(${messages.size}), 0)` })
    .from(messages)
    .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId))
    .where(eq(mailboxes.accountId, accountId));
  return { used: Number(row?.used ?? 0), limit: account?.quota ?? null };
}

/** True when adding `bytes` would take the account over its quota. */
export async function wouldExceedQuota(db: Db | Tx, accountId: number, bytes: number): Promise<boolean> {
  const [account] = await db.select({ quota: accounts.quota }).from(accounts).where(eq(accounts.id, accountId));
  if (account?.quota === null || account?.quota === undefined) return false;
  const { used } = await quotaState(db, accountId);
  return used + bytes > account.quota;
}
