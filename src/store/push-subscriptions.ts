/**
 * JMAP PushSubscriptions (RFC 8620 §7.2), per account. They are not account data: no change-log
 * entry, no state. The repository keeps them, answers which ones are due a push, and keeps the
 * lease that makes one process among several on the database the one that pushes.
 */
import { and, asc, eq, gt, inArray, isNull, lt, or } from "drizzle-orm";
import type { Db } from "./db.ts";
import { pushLease, pushSubscriptions } from "./schema.ts";
import type { Store } from "./store.ts";

export type PushSubscription = typeof pushSubscriptions.$inferSelect;
export type NewPushSubscription = Pick<
  PushSubscription,
  "deviceClientId" | "url" | "keys" | "verificationCode" | "expires" | "types"
>;
/** What an update may change (RFC 8620 §7.2: the rest is immutable). */
export type PushSubscriptionPatch = Partial<Pick<PushSubscription, "verified" | "expires" | "types">>;

export class PushSubscriptionRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** The account's subscriptions among `ids` (all without), oldest first. */
  async list(accountId: number, ids?: readonly number[]): Promise<PushSubscription[]> {
    if (ids?.length === 0) return [];
    const mine = eq(pushSubscriptions.accountId, accountId);
    return this.db.select().from(pushSubscriptions)
      .where(ids ? and(mine, inArray(pushSubscriptions.id, [...ids])) : mine)
      .orderBy(asc(pushSubscriptions.id));
  }

  /** Verified subscriptions not expired at `now`: of one account, or of every account. */
  async due(now: Date, accountId?: number): Promise<PushSubscription[]> {
    const live = and(
      eq(pushSubscriptions.verified, true),
      or(isNull(pushSubscriptions.expires), gt(pushSubscriptions.expires, now)),
    );
    return this.db.select().from(pushSubscriptions)
      .where(accountId === undefined ? live : and(live, eq(pushSubscriptions.accountId, accountId)))
      .orderBy(asc(pushSubscriptions.id));
  }

  create(accountId: number, input: NewPushSubscription): Promise<PushSubscription> {
    return this.store.write(async (tx) => {
      const [row] = await tx.insert(pushSubscriptions).values({ ...input, accountId, verified: false }).returning();
      return row!;
    });
  }

  /** The subscription after the change; null when the account has none such. */
  update(accountId: number, id: number, patch: PushSubscriptionPatch): Promise<PushSubscription | null> {
    return this.store.write(async (tx) => {
      const [row] = await tx.update(pushSubscriptions).set(patch)
        .where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.accountId, accountId)))
        .returning();
      return row ?? null;
    });
  }

  /** False when the account has none such. */
  destroy(accountId: number, id: number): Promise<boolean> {
    return this.store.write(async (tx) => {
      const gone = await tx.delete(pushSubscriptions)
        .where(and(eq(pushSubscriptions.id, id), eq(pushSubscriptions.accountId, accountId)))
        .returning({ id: pushSubscriptions.id });
      return gone.length > 0;
    });
  }

  /**
   * Takes or renews the push lease for `holder` until `now + ttlMs`: it is taken when nobody holds
   * it or its holder let it expire, renewed when `holder` has it. True when `holder` has it after.
   */
  hold(holder: string, ttlMs: number, now = new Date()): Promise<boolean> {
    return this.store.write(async (tx) => {
      const expiresAt = new Date(now.getTime() + ttlMs);
      await tx.insert(pushLease).values({ id: 1, holder, expiresAt }).onConflictDoUpdate({
        target: pushLease.id,
        set: { holder, expiresAt },
        setWhere: or(eq(pushLease.holder, holder), lt(pushLease.expiresAt, now)),
      });
      const [row] = await tx.select({ holder: pushLease.holder }).from(pushLease).where(eq(pushLease.id, 1));
      return row?.holder === holder;
    });
  }

  /** Gives the lease up if `holder` has it (a process that stops), so another takes it at its next look. */
  async release(holder: string): Promise<void> {
    await this.store.write((tx) => tx.delete(pushLease).where(eq(pushLease.holder, holder)));
  }
}
