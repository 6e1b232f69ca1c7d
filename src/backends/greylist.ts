/** Greylisting triplets in libSQL. */
import { eq } from "drizzle-orm";
import type { GreylistEntry, GreylistStore } from "../policy/greylist.ts";
import { greylist } from "../store/schema.ts";
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
