/**
 * The auth throttle over two implementations of its counters: a map in memory, and the store
 * (rate_counters), where two throttles on one database stand for two processes sharing it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { AuthThrottle, type ThrottleCounters, type ThrottleOptions } from "../../src/auth/throttle.ts";
import { openTempStore } from "../helpers/store.ts";

/** The counter contract in memory: key → window start → count. */
function memoryCounters(): ThrottleCounters {
  const windows = new Map<string, Map<number, number>>();
  return {
    async sumCounters(keys, since) {
      const totals = new Map<string, number>();
      for (const key of keys) {
        for (const [start, count] of windows.get(key) ?? []) {
          if (start >= since) totals.set(key, (totals.get(key) ?? 0) + count);
        }
      }
      return totals;
    },
    async bumpCounters(keys, windowStart) {
      for (const key of keys) {
        const byStart = windows.get(key) ?? new Map<number, number>();
        byStart.set(windowStart, (byStart.get(windowStart) ?? 0) + 1);
        windows.set(key, byStart);
      }
    },
    async clearCounter(key) {
      windows.delete(key);
    },
    async countKeys(prefix, since) {
      return [...windows].filter(([key, byStart]) =>
        key.startsWith(prefix) && [...byStart.keys()].some((s) => s >= since)
      )
        .length;
    },
    async pruneCounters(prefix, before) {
      for (const [key, byStart] of windows) {
        if (!key.startsWith(prefix)) continue;
        for (const start of byStart.keys()) if (start < before) byStart.delete(start);
      }
    },
  };
}

const cleanups: Array<() => void> = [];
afterAll(() => cleanups.forEach((c) => c()));

async function storeCounters(): Promise<ThrottleCounters> {
  const { store, cleanup } = await openTempStore();
  cleanups.push(cleanup);
  return store.policy;
}

const implementations: Array<[string, () => Promise<ThrottleCounters>]> = [
  ["in memory", async () => memoryCounters()],
  ["in the store", storeCounters],
];

for (const [name, makeCounters] of implementations) {
  describe(`AuthThrottle, counters ${name}`, () => {
    const throttle = async (options: Omit<ThrottleOptions, "counters">) =>
      new AuthThrottle({ ...options, counters: await makeCounters() });

    test("an address is banned at the ban's failure count, for its duration; the allow-list and others are not", async () => {
      let now = 1_000_000;
      const t = await throttle({
        threshold: 100,
        now: () => now,
        ban: { failures: 3, durationMs: 60_000, allow: ["10.0.0.0/8", "2001:db8::/32"] },
      });
      for (let i = 0; i < 2; i++) await t.failed("192.0.2.7", `user${i}@x.test`);
      expect(await t.banned("192.0.2.7")).toBe(false);
      await t.failed("192.0.2.7", "user2@x.test");
      expect(await t.banned("192.0.2.7")).toBe(true);
      expect(await t.activeBans()).toBe(1);
      // More failures while banned do not ban again.
      await t.failed("192.0.2.7", "user3@x.test");
      expect(await t.activeBans()).toBe(1);
      expect(await t.banned("192.0.2.8")).toBe(false);
      for (const ip of ["10.1.2.3", "2001:db8::5"]) {
        for (let i = 0; i < 5; i++) await t.failed(ip, "x@x.test");
        expect(await t.banned(ip)).toBe(false);
      }
      now += 59_000;
      expect(await t.banned("192.0.2.7")).toBe(true);
      now += 2_000;
      expect(await t.banned("192.0.2.7")).toBe(false);
      expect(await t.activeBans()).toBe(0);
    });

    test("without ban options nobody is banned", async () => {
      const t = await throttle({ threshold: 1 });
      for (let i = 0; i < 20; i++) await t.failed("192.0.2.9", "x@x.test");
      expect(await t.banned("192.0.2.9")).toBe(false);
    });

    test("no delay up to the threshold, then doubling up to the ceiling", async () => {
      const t = await throttle({ threshold: 3, baseDelayMs: 100, maxDelayMs: 1000, now: () => 0 });
      const delays: number[] = [];
      for (let i = 0; i < 8; i++) {
        delays.push(await t.delayFor("192.0.2.1", "alice@example.test"));
        await t.failed("192.0.2.1", "alice@example.test");
      }
      expect(delays).toEqual([0, 0, 0, 100, 200, 400, 800, 1000]);
    });

    test("failures count per IP across accounts, and per account (any case) across IPs", async () => {
      const t = await throttle({ threshold: 2, now: () => 0 });
      await t.failed("192.0.2.1", "a@x.test");
      await t.failed("192.0.2.1", "b@x.test");
      expect(await t.delayFor("192.0.2.1", "c@x.test")).toBeGreaterThan(0); // same IP, new account
      await t.failed("198.51.100.1", "victim@x.test");
      await t.failed("198.51.100.2", "Victim@X.test");
      expect(await t.delayFor("203.0.113.9", "victim@x.test")).toBeGreaterThan(0); // same account, new IP
      expect(await t.delayFor("203.0.113.9", "other@x.test")).toBe(0);
    });

    test("a success clears the account but not the IP; old failures expire", async () => {
      let now = 0;
      const t = await throttle({ threshold: 1, windowMs: 1000, now: () => now });
      await t.failed("192.0.2.1", "a@x.test");
      await t.succeeded("a@x.test");
      expect(await t.delayFor("198.51.100.1", "a@x.test")).toBe(0);
      expect(await t.delayFor("192.0.2.1", "b@x.test")).toBeGreaterThan(0);
      now = 900; // still inside the window of the failure at 0
      expect(await t.delayFor("192.0.2.1", "b@x.test")).toBeGreaterThan(0);
      now = 2000;
      expect(await t.delayFor("192.0.2.1", "b@x.test")).toBe(0);
    });

    test("the window slides: failures spread over time count only while they are recent", async () => {
      let now = 0;
      const t = await throttle({ threshold: 3, windowMs: 1500, now: () => now });
      for (const at of [0, 1000, 2000]) {
        now = at;
        await t.failed("192.0.2.1", "a@x.test");
      }
      // At 2000 the failures at 1000 and 2000 are within 1500 ms, the one at 0 is not.
      expect(await t.delayFor("192.0.2.2", "a@x.test")).toBe(0);
      now = 2000 + 200;
      await t.failed("192.0.2.1", "a@x.test");
      expect(await t.delayFor("192.0.2.2", "a@x.test")).toBeGreaterThan(0);
    });
  });
}

describe("AuthThrottle across processes", () => {
  test("two throttles on one database see each other's failures and successes", async () => {
    const { store, sql, cleanup } = await openTempStore();
    cleanups.push(cleanup);
    const options = { threshold: 2, windowMs: 60_000, now: () => 1_000_000 };
    const first = new AuthThrottle({ ...options, counters: store.policy });
    const second = new AuthThrottle({ ...options, counters: store.policy });
    await first.failed("192.0.2.1", "a@x.test");
    await second.failed("192.0.2.9", "a@x.test");
    expect(await first.delayFor("198.51.100.1", "a@x.test")).toBeGreaterThan(0);
    expect(await sql("SELECT key, count FROM rate_counters WHERE key = 'auth-user|a@x.test'")).toEqual([
      { key: "auth-user|a@x.test", count: 2 },
    ]);
    await second.succeeded("A@x.test");
    expect(await first.delayFor("198.51.100.1", "a@x.test")).toBe(0);
  });

  test("windows out of date are pruned from the table, other counters are left", async () => {
    const { store, sql, cleanup } = await openTempStore();
    cleanups.push(cleanup);
    await store.policy.count("messagesPerIpPerHour|192.0.2.1", 0, 1);
    let now = 0;
    const t = new AuthThrottle({ threshold: 5, windowMs: 1500, now: () => now, counters: store.policy });
    await t.failed("192.0.2.1", "a@x.test");
    now = 5000;
    await t.failed("192.0.2.2", "b@x.test");
    const rows = await sql("SELECT key, window_start FROM rate_counters ORDER BY key");
    expect(rows).toEqual([
      { key: "auth-ip|192.0.2.2", window_start: 5000 },
      { key: "auth-user|b@x.test", window_start: 5000 },
      { key: "messagesPerIpPerHour|192.0.2.1", window_start: 0 },
    ]);
  });
});
