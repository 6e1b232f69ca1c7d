/**
 * The queue's retry and notification rules (src/queue/decision.ts), without sockets or a store:
 * permanent and temporary replies, backoff, the maximum age, the one "delayed" DSN, NOTIFY and
 * the null sender.
 */
import { describe, expect, test } from "bun:test";
import { type Attempt, decide, type DecisionOptions, replyLine, retryDelayMs } from "../../src/queue/decision.ts";

const HOUR = 3_600_000;
const created = new Date("2026-12-01T10:00:00Z");
const at = (ms: number) => created.getTime() + ms;
const message = { sender: "alice@example.test", createdAt: created };
const options: DecisionOptions = { maxAgeMs: 5 * 24 * HOUR, delayWarningMs: 4 * HOUR, retryDelayMs: 60_000 };

function attempt(reply: Attempt["reply"], over: Partial<Attempt> = {}): Attempt {
  return {
    id: 7,
    recipient: "bob@remote.test",
    notify: null,
    orcpt: null,
    attempts: 0,
    delayNotified: false,
    reply,
    mta: "mx.remote.test",
    ...over,
  };
}

const ok = { code: 250, enhanced: "2.0.0", text: "queued as 1" };
const unknown = { code: 550, enhanced: "5.1.1", text: "no such user" };
const busy = { code: 451, enhanced: "4.3.0", text: "try later" };

describe("outcomes", () => {
  test("a 2xx is delivered, and by default (NOTIFY absent) nobody is told", () => {
    const { outcomes, notices } = decide(message, [attempt(ok, { attempts: 2 })], at(1000), options);
    expect(outcomes).toEqual([
      {
        recipientId: 7,
        status: "delivered",
        attempts: 3,
        lastReply: "250 2.0.0 queued as 1",
        nextAttemptAt: new Date(at(1000) + 4 * 60_000),
        delayNotified: false,
      },
    ]);
    expect(notices).toEqual([]);
  });

  test("a 5xx fails at once, with a failure notice naming the remote MTA and its reply", () => {
    const { outcomes, notices } = decide(message, [attempt(unknown, { orcpt: "rfc822;b@fwd.test" })], at(1), options);
    expect(outcomes[0]!.status).toBe("failed");
    expect(notices).toEqual([
      {
        recipientId: 7,
        address: "bob@remote.test",
        orcpt: "rfc822;b@fwd.test",
        action: "failed",
        status: "5.1.1",
        remoteMta: "mx.remote.test",
        diagnostic: "550 5.1.1 no such user",
      },
    ]);
  });

  test("a 4xx stays pending with backoff from the number of attempts", () => {
    const { outcomes, notices } = decide(message, [attempt(busy, { attempts: 1 })], at(60_000), options);
    expect(outcomes[0]).toMatchObject({ status: "pending", attempts: 2, lastReply: "451 4.3.0 try later" });
    expect(outcomes[0]!.nextAttemptAt).toEqual(new Date(at(60_000) + 2 * 60_000));
    expect(notices).toEqual([]);
  });

  test("a 4xx once the message is older than the maximum age fails (not at the age itself)", () => {
    const atLimit = decide(message, [attempt(busy)], at(options.maxAgeMs), options);
    expect(atLimit.outcomes[0]!.status).toBe("pending");
    const past = decide(message, [attempt(busy, { delayNotified: true })], at(options.maxAgeMs + 1), options);
    expect(past.outcomes[0]!.status).toBe("failed");
    expect(past.notices.map((n) => [n.action, n.status])).toEqual([["failed", "4.3.0"]]);
  });

  test("a 5xx after the maximum age is still a failure; a 2xx after it is still a delivery", () => {
    const late = at(options.maxAgeMs + HOUR);
    expect(decide(message, [attempt(unknown)], late, options).outcomes[0]!.status).toBe("failed");
    expect(decide(message, [attempt(ok)], late, options).outcomes[0]!.status).toBe("delivered");
  });

  test("each recipient is decided on its own reply, in order", () => {
    const { outcomes } = decide(
      message,
      [attempt(ok, { id: 1 }), attempt(unknown, { id: 2 }), attempt(busy, { id: 3 })],
      at(1),
      options,
    );
    expect(outcomes.map((o) => [o.recipientId, o.status])).toEqual([[1, "delivered"], [2, "failed"], [3, "pending"]]);
  });

  test("replies without an enhanced code get the class default in the notice", () => {
    const bare = { ...options, delayWarningMs: 1 };
    const failed = decide(message, [attempt({ code: 554, text: "go away" })], at(10), bare);
    expect(failed.outcomes[0]!.lastReply).toBe("554 go away");
    expect(failed.notices[0]!.status).toBe("5.0.0");
    const delayed = decide(message, [attempt({ code: 421, text: "busy" })], at(10), bare);
    expect(delayed.notices[0]!.status).toBe("4.0.0");
    const sent = decide(message, [attempt({ code: 250, text: "ok" }, { notify: "SUCCESS" })], at(10), bare);
    expect(sent.notices[0]!.status).toBe("2.0.0");
  });
});

describe("the delayed notice (RFC 3464 §2.3.3)", () => {
  test("sent once the message is older than delayWarningMs, with Will-Retry-Until at the maximum age", () => {
    const young = decide(message, [attempt(busy)], at(4 * HOUR - 1), options);
    expect(young.outcomes[0]!.delayNotified).toBe(false);
    expect(young.notices).toEqual([]);
    const old = decide(message, [attempt(busy)], at(4 * HOUR), options);
    expect(old.outcomes[0]).toMatchObject({ status: "pending", delayNotified: true });
    expect(old.notices).toEqual([
      {
        recipientId: 7,
        address: "bob@remote.test",
        orcpt: null,
        action: "delayed",
        status: "4.3.0",
        remoteMta: "mx.remote.test",
        diagnostic: "451 4.3.0 try later",
        willRetryUntil: new Date(at(options.maxAgeMs)),
      },
    ]);
  });

  test("at most one: a recipient already warned is not warned again", () => {
    const again = decide(message, [attempt(busy, { delayNotified: true })], at(10 * HOUR), options);
    expect(again.outcomes[0]!.delayNotified).toBe(false);
    expect(again.notices).toEqual([]);
  });

  test("delayWarningMs 0 or absent turns it off", () => {
    for (const o of [{ ...options, delayWarningMs: 0 }, { maxAgeMs: options.maxAgeMs }]) {
      const d = decide(message, [attempt(busy)], at(3 * 24 * HOUR), o);
      expect(d.outcomes[0]!.delayNotified).toBe(false);
      expect(d.notices).toEqual([]);
    }
  });

  test("NOTIFY without DELAY gets no notice, but the warning counts as given", () => {
    const d = decide(message, [attempt(busy, { notify: "FAILURE" })], at(5 * HOUR), options);
    expect(d.outcomes[0]!.delayNotified).toBe(true);
    expect(d.notices).toEqual([]);
  });
});

describe("NOTIFY (RFC 3461 §4.1) and the null sender", () => {
  test("NEVER suppresses every notice; SUCCESS asks for one on delivery; FAILURE only for failures", () => {
    const never = decide(message, [attempt(unknown, { notify: "NEVER" })], at(1), options);
    expect(never.outcomes[0]!.status).toBe("failed");
    expect(never.notices).toEqual([]);
    const success = decide(message, [attempt(ok, { notify: "SUCCESS,FAILURE" })], at(1), options);
    expect(success.notices.map((n) => [n.action, n.status])).toEqual([["delivered", "2.0.0"]]);
    const failure = decide(message, [attempt(ok, { notify: "FAILURE" })], at(1), options);
    expect(failure.notices).toEqual([]);
    const lower = decide(message, [attempt(unknown, { notify: "failure" })], at(1), options);
    expect(lower.notices.map((n) => n.action)).toEqual(["failed"]);
  });

  test("a message from the null sender never gets a DSN, whatever happened", () => {
    const bounce = { ...message, sender: "" };
    const d = decide(
      bounce,
      [attempt(unknown, { id: 1 }), attempt(ok, { id: 2, notify: "SUCCESS" }), attempt(busy, { id: 3 })],
      at(5 * HOUR),
      options,
    );
    expect(d.outcomes.map((o) => o.status)).toEqual(["failed", "delivered", "pending"]);
    expect(d.notices).toEqual([]);
  });
});

describe("backoff", () => {
  test("the base delay doubles with each attempt, up to four hours", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(n))).toEqual([300_000, 600_000, 1_200_000, 2_400_000]);
    expect(retryDelayMs(0, 1000)).toBe(1000);
    expect(retryDelayMs(6)).toBe(9_600_000);
    expect(retryDelayMs(7)).toBe(4 * HOUR);
    expect(retryDelayMs(60)).toBe(4 * HOUR);
  });

  test("the reply line leaves out a missing enhanced code", () => {
    expect(replyLine({ code: 421, text: "bye" })).toBe("421 bye");
    expect(replyLine({ code: 250, enhanced: "2.0.0", text: "" })).toBe("250 2.0.0");
  });
});
