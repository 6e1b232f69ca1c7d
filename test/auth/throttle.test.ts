import { describe, expect, test } from "bun:test";
import { AuthThrottle } from "../../src/auth/throttle.ts";

describe("AuthThrottle", () => {
  test("no delay up to the threshold, then doubling up to the ceiling", () => {
    const t = new AuthThrottle({ threshold: 3, baseDelayMs: 100, maxDelayMs: 1000, now: () => 0 });
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      delays.push(t.delayFor("192.0.2.1", "alice@example.test"));
      t.failed("192.0.2.1", "alice@example.test");
    }
    expect(delays).toEqual([0, 0, 0, 100, 200, 400, 800, 1000]);
  });

  test("failures count per IP across accounts, and per account across IPs", () => {
    const t = new AuthThrottle({ threshold: 2, now: () => 0 });
    t.failed("192.0.2.1", "a@x.test");
    t.failed("192.0.2.1", "b@x.test");
    expect(t.delayFor("192.0.2.1", "c@x.test")).toBeGreaterThan(0); // same IP, new account
    t.failed("198.51.100.1", "victim@x.test");
    t.failed("198.51.100.2", "victim@x.test");
    expect(t.delayFor("203.0.113.9", "victim@x.test")).toBeGreaterThan(0); // same account, new IP
    expect(t.delayFor("203.0.113.9", "other@x.test")).toBe(0);
  });

  test("a success clears the account but not the IP; old failures expire", () => {
    let now = 0;
    const t = new AuthThrottle({ threshold: 1, windowMs: 1000, now: () => now });
    t.failed("192.0.2.1", "a@x.test");
    t.succeeded("a@x.test");
    expect(t.delayFor("198.51.100.1", "a@x.test")).toBe(0);
    expect(t.delayFor("192.0.2.1", "b@x.test")).toBeGreaterThan(0);
    now = 2000;
    expect(t.delayFor("192.0.2.1", "b@x.test")).toBe(0);
  });
});
