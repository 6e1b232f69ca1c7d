/** Policy state in libSQL: greylisting triplets and rate-limit counters (src/policy keeps the rules). */
import { eq, sql } from "drizzle-orm";
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
}
