/**
 * What IMAP keeps beside the mail: subscriptions (RFC 9051 §6.3.7, §6.3.8), names kept apart from
 * mailboxes — a name may be subscribed whether or not a mailbox of that name exists, and DELETE
 * leaves it subscribed (the mailboxes' `subscribed` flag mirrors this table through triggers,
 * migration 0011, for JMAP) — the claim on \Recent of IMAP4rev1 sessions (RFC 3501 §2.3.2), and
 * MULTIAPPEND's all-or-nothing append (multi-append.ts).
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Appended } from "./append.ts";
import type { Db } from "./db.ts";
import { appendAll, type AppendItem } from "./multi-append.ts";
import { chunks } from "./membership.ts";
import { storageUsed } from "./quota.ts";
import { accounts, changes, mailboxes, messages, subscriptions } from "./schema.ts";
import type { Store } from "./store.ts";

export class ImapStateStore {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** The account's subscribed names, in name order. */
  async subscribed(accountId: number): Promise<string[]> {
    const rows = await this.db.select({ name: subscriptions.name }).from(subscriptions)
      .where(eq(subscriptions.accountId, accountId)).orderBy(asc(subscriptions.name));
    return rows.map((r) => r.name);
  }

  /**
   * Subscribes or unsubscribes a name. A mailbox of that name, if any, logs an update (its JMAP
   * isSubscribed changed).
   */
  setSubscription(accountId: number, name: string, subscribed: boolean): Promise<void> {
    return this.store.write(async (tx, changes) => {
      const match = and(eq(subscriptions.accountId, accountId), eq(subscriptions.name, name));
      const [had] = await tx.select({ name: subscriptions.name }).from(subscriptions).where(match);
      if (Boolean(had) === subscribed) return;
      if (subscribed) await tx.insert(subscriptions).values({ accountId, name });
      else await tx.delete(subscriptions).where(match);
      const [box] = await tx.select({ id: mailboxes.id }).from(mailboxes)
        .where(and(eq(mailboxes.accountId, accountId), eq(mailboxes.name, name)));
      if (box) await changes.add({ accountId, mailboxId: box.id, type: "mailbox", objectId: box.id, op: "updated" });
    });
  }

  /**
   * Claims the mailbox's messages no session has seen as \Recent yet: returns the UID range
   * (`after`, `upTo`] that is recent for the caller alone (RFC 3501 §2.3.2), empty when another
   * session claimed them first.
   */
  claimRecent(mailboxId: number): Promise<{ after: number; upTo: number }> {
    return this.store.write(async (tx) => {
      const [row] = await tx.select({ recentUid: mailboxes.recentUid, uidNext: mailboxes.uidNext }).from(mailboxes)
        .where(eq(mailboxes.id, mailboxId));
      if (!row || row.recentUid >= row.uidNext - 1) return { after: 0, upTo: 0 };
      await tx.update(mailboxes).set({ recentUid: sql`${row.uidNext - 1}` }).where(eq(mailboxes.id, mailboxId));
      return { after: row.recentUid, upTo: row.uidNext - 1 };
    });
  }

  /** The account's quota in bytes (null: none) and what it uses (IMAP QUOTA, RFC 9208). */
  async quota(accountId: number): Promise<{ limit: number | null; used: number }> {
    const [row] = await this.db.select({ quota: accounts.quota }).from(accounts).where(eq(accounts.id, accountId));
    return { limit: row?.quota ?? null, used: await storageUsed(this.db, accountId) };
  }

  /** How many messages of the mailbox have a UID above `uid` (STATUS RECENT; one index range). */
  async countAbove(mailboxId: number, uid: number): Promise<number> {
    const [row] = await this.db.select({ n: sql<number>`count(*)` }).from(messages)
      .where(and(eq(messages.mailboxId, mailboxId), sql`${messages.uid} > ${uid}`));
    return Number(row?.n ?? 0);
  }

  /**
   * SAVEDATE (RFC 8514): when each message was saved into the mailbox (appended, delivered, copied
   * or moved there), which is when the change log recorded its membership being created.
   */
  async saveDates(mailboxId: number, uids: readonly number[]): Promise<Map<number, Date>> {
    const out = new Map<number, Date>();
    for (const part of chunks([...new Set(uids)])) {
      const rows = await this.db
        .select({ uid: changes.uid, at: sql<number>`max(${changes.createdAt})` })
        .from(changes)
        .where(and(eq(changes.mailboxId, mailboxId), eq(changes.mailboxOp, "created"), inArray(changes.uid, part)))
        .groupBy(changes.uid);
      for (const row of rows) if (row.uid !== null) out.set(row.uid, new Date(Number(row.at)));
    }
    return out;
  }

  /** MULTIAPPEND (RFC 3502): every message into the mailbox in one transaction, or none. */
  appendAll(accountId: number, mailboxId: number, items: readonly AppendItem[]): Promise<Appended[] | "overQuota"> {
    return appendAll(this.store, accountId, mailboxId, items);
  }
}
