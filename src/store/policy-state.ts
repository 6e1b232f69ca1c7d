/**
 * Policy state in libSQL: greylisting triplets, rate-limit counters, and the failed-login
 * counters of the auth throttle (src/policy and src/auth/throttle.ts keep the rules).
 */
import { and, eq, gte, inArray, lt, sql } from "drizzle-orm";
import type { Db } from "./db.ts";
import { greylist, rateCounters } from "./schema.ts";
import type { Store } from "./store.ts";

export interface GreylistRow {
  firstSeen: number;
  passedAt: number | null;
  lastSeen: number;
}

export class PolicyStateRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  async greylistGet(triplet: string): Promise<GreylistRow | null> {
    const [row] = await this.db.select().from(greylist).where(eq(greylist.triplet, triplet));
    return row
      ? {
        firstSeen: row.firstSeen.getTime(),
        passedAt: row.passedAt?.getTime() ?? null,
        lastSeen: row.lastSeen.getTime(),
      }
      : null;
  }

  async greylistPut(triplet: string, entry: GreylistRow): Promise<void> {
    const values = {
      firstSeen: new Date(entry.firstSeen),
      passedAt: entry.passedAt === null ? null : new Date(entry.passedAt),
      lastSeen: new Date(entry.lastSeen),
    };
    await this.store.write((tx) =>
      tx.insert(greylist).values({ triplet, ...values }).onConflictDoUpdate({ target: greylist.triplet, set: values })
    );
  }

  /** Adds `amount` to a counter's window and returns the new count (one upsert). */
  async count(key: string, windowStart: number, amount: number): Promise<number> {
    const [row] = await this.store.write((tx) =>
      tx
        .insert(rateCounters)
        .values({ key, windowStart, count: amount })
        .onConflictDoUpdate({
          target: [rateCounters.key, rateCounters.windowStart],
          set: { count: sql`${rateCounters.count} + ${amount}` },
        })
        .returning({ count: rateCounters.count })
    );
    return row!.count;
  }

  /** Each key's total over the windows that started at or after `since`; keys with none are absent. */
  async sumCounters(keys: readonly string[], since: number): Promise<Map<string, number>> {
    const rows = await this.db
      .select({ key: rateCounters.key, total: sql<number>`sum(${rateCounters.count})` })
      .from(rateCounters)
      .where(and(inArray(rateCounters.key, [...keys]), gte(rateCounters.windowStart, since)))
      .groupBy(rateCounters.key);
    return new Map(rows.map((r) => [r.key, Number(r.total)]));
  }

  /** Adds one to each key's counter in one window, in one transaction. */
  async bumpCounters(keys: readonly string[], windowStart: number): Promise<void> {
    await this.store.write(async (tx) => {
      for (const key of keys) {
        await tx
          .insert(rateCounters)
          .values({ key, windowStart, count: 1 })
          .onConflictDoUpdate({
            target: [rateCounters.key, rateCounters.windowStart],
            set: { count: sql`${rateCounters.count} + 1` },
          });
      }
    });
  }

  /**
   * Deletes every window of a key. A successful login calls this each time, so it reads first
   * and writes only when there is something to delete.
   */
  async clearCounter(key: string): Promise<void> {
    const [row] = await this.db
      .select({ key: rateCounters.key })
      .from(rateCounters)
      .where(eq(rateCounters.key, key))
      .limit(1);
    if (row) await this.store.write((tx) => tx.delete(rateCounters).where(eq(rateCounters.key, key)));
  }

  /** Deletes the windows that started before `before`, of every key beginning with `prefix` (ASCII). */
  /** How many keys beginning with `prefix` have a window that started at or after `since`. */
  async countKeys(prefix: string, since: number): Promise<number> {
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    const [row] = await this.db
      .select({ n: sql<number>`count(DISTINCT ${rateCounters.key})` })
      .from(rateCounters)
      .where(and(gte(rateCounters.key, prefix), lt(rateCounters.key, end), gte(rateCounters.windowStart, since)));
    return Number(row?.n ?? 0);
  }

  async pruneCounters(prefix: string, before: number): Promise<void> {
    // A key range rather than LIKE, so the primary key index finds the rows.
    const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    await this.store.write((tx) =>
      tx
        .delete(rateCounters)
        .where(and(gte(rateCounters.key, prefix), lt(rateCounters.key, end), lt(rateCounters.windowStart, before)))
    );
  }
}
