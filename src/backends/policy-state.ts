/** Policy state in libSQL: greylisting triplets and rate-limit counters. */
import { eq, sql } from "drizzle-orm";
import type { GreylistEntry, GreylistStore } from "../policy/greylist.ts";
import type { RateCounter } from "../policy/rate-limit.ts";
import { greylist, rateCounters } from "../store/schema.ts";
import type { Store } from "../store/store.ts";

export function storeGreylist(store: Store): GreylistStore {
  return {
    async get(triplet) {
      const [row] = await store.db.select().from(greylist).where(eq(greylist.triplet, triplet));
      return row ? { firstSeen: row.firstSeen.getTime(), passedAt: row.passedAt?.getTime() ?? null, lastSeen: row.lastSeen.getTime() } : null;
    },
    async put(triplet, entry: GreylistEntry) {
      const values = { firstSeen: new Date(entry.firstSeen), passedAt: entry.passedAt === null ? null : new Date(entry.passedAt), lastSeen: new Date(entry.lastSeen) };
      await store.write((tx) => tx.insert(greylist).values({ triplet, ...values }).onConflictDoUpdate({ target: greylist.triplet, set: values }));
    },
  };
}

/** Rate-limit counters in libSQL: one upsert per count. */
export function storeRateCounter(store: Store): RateCounter {
  return async (key, windowStart, amount) => {
    const [row] = await store.write((tx) =>
      tx
        .insert(rateCounters)
        .values({ key, windowStart, count: amount })
        .onConflictDoUpdate({ target: [rateCounters.key, rateCounters.windowStart], set: { count: sql`${rateCounters.count} + ${amount}` } })
        .returning({ count: rateCounters.count }),
    );
    return row!.count;
  };
}
