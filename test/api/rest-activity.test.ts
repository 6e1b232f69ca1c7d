/**
 * The recent activity (issue 22): the buffer fed by the log lines, and `GET /api/v1/activity`
 * through Hono's `app.request()`.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import type { Store } from "../../src/store/store.ts";
import {
  ACTIVITY_LIMIT,
  type ActivityEvent,
  clearActivity,
  localActivity,
  recentActivity,
} from "../../src/util/activity.ts";
import { captureLog, log, setLogLevel } from "../../src/util/log.ts";
import { openTempStore } from "../helpers/store.ts";

const TOKEN = "test-admin-token-0123456789";
let store: Store;
let cleanup: () => void;
let app: ReturnType<typeof createApp>;
let restore: () => void;

beforeAll(async () => {
  ({ store, cleanup } = await openTempStore());
  app = createApp({ version: "0.0.0", startedAt: Date.now(), metrics: () => [], store, adminToken: TOKEN });
  restore = captureLog(() => {});
});
afterAll(() => {
  restore();
  cleanup();
});
// Other test files in the same process log too: each test starts from an empty buffer.
beforeEach(() => clearActivity());
afterEach(() => {
  clearActivity();
  setLogLevel("info");
});

const get = (query = "", token: string | null = TOKEN) =>
  app.request(`/api/v1/activity${query}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });

/** The three kinds of line, with the fields their writers log. */
function logSome(): void {
  log.info("accepted", {
    id: "abc",
    queue: 7,
    from: "<ann@example.test>",
    to: "<bob@example.test>",
    size: 120,
    verdict: "accept",
    stored: 1,
  });
  log.info("refused", {
    listener: "smtp",
    ip: "192.0.2.9",
    stage: "rcpt",
    to: "TO:<nobody@example.test>",
    reply: "550 5.1.1 No such user",
  });
  log.warn("delivery", {
    queue: 8,
    to: "<carl@far.test>",
    relay: "mx.far.test[192.0.2.1]:25",
    dsn: "5.7.1",
    status: "bounced",
    reply: "550 5.7.1 Go away",
  });
  log.info("postern started", { pid: 1 });
}

describe("recent activity", () => {
  test("the buffer keeps accepted, refused and delivery lines, and nothing else", () => {
    logSome();
    const events = localActivity();
    expect(events.map((e) => e.kind)).toEqual(["accepted", "refusal", "delivery"]);
    expect(events[0]).toMatchObject({
      queueId: 7,
      from: "<ann@example.test>",
      to: "<bob@example.test>",
      pid: process.pid,
    });
    expect(events[1]).toMatchObject({ queueId: null, to: "<nobody@example.test>" });
    expect(events[1]!.result).toContain("550 5.1.1 No such user");
    expect(events[2]).toMatchObject({ queueId: 8, to: "<carl@far.test>" });
    expect(events[2]!.result).toContain("bounced 5.7.1");
  });

  test("kept whatever log.level drops, and only the last ACTIVITY_LIMIT", () => {
    setLogLevel("error");
    for (let i = 0; i < ACTIVITY_LIMIT + 20; i++) {
      log.info("accepted", { queue: i, from: "<a@b.test>", to: "<c@d.test>" });
    }
    const events = localActivity();
    expect(events.length).toBe(ACTIVITY_LIMIT);
    expect(events[0]!.queueId).toBe(20);
  });

  test("peers' events merge in by time, newest first", () => {
    logSome();
    const peer: ActivityEvent = {
      time: "2999-01-01T00:00:00.000Z",
      kind: "delivery",
      queueId: 1,
      from: null,
      to: "<z@z.test>",
      result: "sent 2.0.0",
      pid: 4242,
    };
    const all = recentActivity({ peers: [[peer], undefined, "junk"] });
    expect(all[0]).toEqual(peer);
    expect(all.length).toBe(4);
    expect(recentActivity({ kind: "delivery", peers: [[peer]] }).map((e) => e.pid)).toEqual([4242, process.pid]);
  });

  test("GET /api/v1/activity: newest first, kind and limit filter", async () => {
    logSome();
    const res = await get();
    expect(res.status).toBe(200);
    const all = await res.json() as ActivityEvent[];
    expect(all.map((e) => e.kind).sort()).toEqual(["accepted", "delivery", "refusal"]);
    const refusals = await (await get("?kind=refusal")).json() as ActivityEvent[];
    expect(refusals.map((e) => e.to)).toEqual(["<nobody@example.test>"]);
    expect((await (await get("?limit=1")).json() as unknown[]).length).toBe(1);
  });

  test("bad query: 400 problem documents naming the parameter; no token: 401", async () => {
    for (const query of ["?kind=bogus", "?limit=0", "?limit=abc", `?limit=${ACTIVITY_LIMIT + 1}`]) {
      const res = await get(query);
      expect(res.status).toBe(400);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      const body = await res.json() as { errors: Array<{ path: string }> };
      expect(JSON.stringify(body.errors)).toMatch(/kind|limit/);
    }
    expect((await get("", null)).status).toBe(401);
  });

  test("in the OpenAPI document", async () => {
    const doc = await (await app.request("/api/openapi.json")).json() as { paths: Record<string, unknown> };
    expect(doc.paths["/api/v1/activity"]).toBeDefined();
  });
});
