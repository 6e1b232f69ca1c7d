/** Policy state over the store: greylisting triplets and rate-limit counters. */
import type { GreylistEntry, GreylistStore } from "../policy/greylist.ts";
import type { RateCounter } from "../policy/rate-limit.ts";
import type { Store } from "../store/store.ts";

export function storeGreylist(store: Store): GreylistStore {
  return {
    get: (triplet) => store.policy.greylistGet(triplet),
    put: (triplet, entry: GreylistEntry) => store.policy.greylistPut(triplet, entry),
  };
}

/** Rate-limit counters in libSQL: one upsert per count. */
export function storeRateCounter(store: Store): RateCounter {
  return (key, windowStart, amount) => store.policy.count(key, windowStart, amount);
}
