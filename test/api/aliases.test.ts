/**
 * REST for aliases (issue 19) through Hono's `app.request()` over a real store: state and
 * counters for the admin, enable/disable, and an account managing its own aliases with its API
 * token where the admin allows it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

const ADMIN = "test-admin-token-0123456789";
let store: Store;
let cleanup: () => void;
let app: ReturnType<typeof createApp>;
let annToken: string;
let bobToken: string;

beforeAll(async () => {
  ({ store, cleanup } = await openTempStore());
  app = createApp({ version: "0.0.0", startedAt: Date.now(), metrics: () => [], store, adminToken: ADMIN });
  await store.domains.add("example.test");
  await store.domains.add("alias.test", "forward");
  await store.domains.add("closed.test", "forward");
  await store.accounts.add({ address: "ann@example.test", password: "long enough password" });
  await store.accounts.add({ address: "bob@example.test", password: "long enough password" });
  annToken = (await store.tokens.create("ann@example.test", "aliases")).token;
  bobToken = (await store.tokens.create("bob@example.test", "aliases")).token;
});
afterAll(() => cleanup());

function call(method: string, path: string, body?: unknown, token: string | null = ADMIN) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

describe("REST: aliases for the admin", () => {
  test("disable and enable an alias; state and counters are shown", async () => {
    expect(
      (await call("POST", "/api/v1/aliases", { address: "leaked@alias.test", targets: ["ann@example.test"] }))
        .status,
    ).toBe(201);
    const off = await call("PATCH", "/api/v1/aliases/leaked@alias.test", { disabled: true });
    expect(off.status).toBe(200);
    expect(await off.json()).toEqual({
      address: "leaked@alias.test",
      targets: ["ann@example.test"],
      disabled: true,
      owner: null,
      forwarded: 0,
      refused: 0,
      lastUsedAt: null,
    });
    await store.aliases.recordUse(["leaked@alias.test"], "refused", new Date("2026-11-29T08:00:00Z"));
    expect(await (await call("GET", "/api/v1/aliases/leaked@alias.test")).json()).toMatchObject({
      disabled: true,
      refused: 1,
      lastUsedAt: "2026-11-29T08:00:00.000Z",
    });
    expect(await (await call("PATCH", "/api/v1/aliases/leaked@alias.test", { disabled: false })).json())
      .toMatchObject({ disabled: false });
    expect((await call("PATCH", "/api/v1/aliases/nobody@alias.test", { disabled: true })).status).toBe(404);
    expect((await call("GET", "/api/v1/aliases/nobody@alias.test")).status).toBe(404);
    expect((await call("PATCH", "/api/v1/aliases/leaked@alias.test", { disabled: "yes" })).status).toBe(400);
  });

  test("a pattern alias is added like any other", async () => {
    const res = await call("POST", "/api/v1/aliases", { address: "shop-*@alias.test", targets: ["ann@example.test"] });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ address: "shop-*@alias.test" });
  });

  test("plain http:// webhooks: loopback yes, elsewhere 400 without webhooks.allowHttp", async () => {
    const loopbackAllowed = createApp({
      version: "0.0.0",
      startedAt: Date.now(),
      metrics: () => [],
      store,
      adminToken: ADMIN,
      outbound: { allowPrivateTargets: ["127.0.0.1", "::1"] },
    });
    const local = await loopbackAllowed.request("/api/v1/aliases", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ address: "h@alias.test", targets: ["http://127.0.0.1:9/x"] }),
    });
    expect(local.status).toBe(201);
    const far = await call("POST", "/api/v1/aliases", { address: "h@alias.test", targets: ["http://hooks.test/x"] });
    expect(far.status).toBe(400);
    expect(((await far.json()) as { detail: string }).detail).toContain("webhooks.allowHttp");
    const open = createApp({
      version: "0.0.0",
      startedAt: Date.now(),
      metrics: () => [],
      store,
      adminToken: ADMIN,
      allowHttpWebhooks: true,
    });
    const allowed = await open.request("/api/v1/aliases", {
      method: "POST",
      headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
      body: JSON.stringify({ address: "h@alias.test", targets: ["http://hooks.test/x"] }),
    });
    expect(allowed.status).toBe(201);
  });
});

describe("REST: webhook targets at private addresses (issue 18)", () => {
  test("127.0.0.1, 10.0.0.1, 169.254.169.254, [::1] and localhost are refused without outbound.allowPrivateTargets", async () => {
    for (
      const target of [
        "http://127.0.0.1:9/x",
        "https://10.0.0.1/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]:8443/x",
        "http://localhost/x",
      ]
    ) {
      const res = await call("POST", "/api/v1/aliases", { address: "private@alias.test", targets: [target] });
      expect([target, res.status]).toEqual([target, 400]);
      expect(((await res.json()) as { detail: string }).detail).toContain("outbound.allowPrivateTargets");
    }
    expect((await call("GET", "/api/v1/aliases/private@alias.test")).status).toBe(404);
    // A name is resolved when mail is delivered (test/forward/webhook-target.test.ts), not here.
    const named = await call("POST", "/api/v1/aliases", {
      address: "named@alias.test",
      targets: ["https://hooks.test/x"],
    });
    expect(named.status).toBe(201);
  });
});

describe("REST: an account's own aliases (/api/v1/me/aliases)", () => {
  test("the account's API token is needed; the admin token is not one", async () => {
    for (const token of [null, ADMIN, "not-a-token"]) {
      expect((await call("GET", "/api/v1/me/aliases", undefined, token)).status).toBe(401);
    }
    // And an account token opens nothing of the admin's.
    expect((await call("GET", "/api/v1/aliases", undefined, annToken)).status).toBe(401);
  });

  test("only at domains the admin opened; the alias delivers to the owner; list, disable, delete", async () => {
    const closed = await call("POST", "/api/v1/me/aliases", { address: "ann-news@alias.test" }, annToken);
    expect(closed.status).toBe(400);
    expect(((await closed.json()) as { detail: string }).detail).toContain("does not let owners");
    expect((await call("PATCH", "/api/v1/domains/alias.test/owner-aliases", { allowed: true })).status).toBe(204);

    const made = await call("POST", "/api/v1/me/aliases", { address: "Ann-News@alias.test" }, annToken);
    expect(made.status).toBe(201);
    expect(await made.json()).toMatchObject({
      address: "ann-news@alias.test",
      targets: ["ann@example.test"],
      owner: "ann@example.test",
      disabled: false,
    });
    expect((await call("POST", "/api/v1/me/aliases", { address: "x@closed.test" }, annToken)).status).toBe(400);
    expect((await call("POST", "/api/v1/me/aliases", { address: "@alias.test" }, annToken)).status).toBe(400);
    // Someone else's name, or the admin's own alias, cannot be taken over.
    expect((await call("POST", "/api/v1/me/aliases", { address: "ann-news@alias.test" }, bobToken)).status).toBe(409);
    expect((await call("POST", "/api/v1/me/aliases", { address: "leaked@alias.test" }, annToken)).status).toBe(409);
    expect(
      (await call("POST", "/api/v1/me/aliases", { address: "y@alias.test", targets: ["z@x.test"] }, annToken))
        .status,
    ).toBe(400);

    const mine = (await (await call("GET", "/api/v1/me/aliases", undefined, annToken)).json()) as unknown[];
    expect(mine.map((a) => (a as { address: string }).address)).toEqual(["ann-news@alias.test"]);
    expect(await (await call("GET", "/api/v1/me/aliases", undefined, bobToken)).json()).toEqual([]);

    // Bob can neither see, disable nor delete Ann's alias.
    expect((await call("PATCH", "/api/v1/me/aliases/ann-news@alias.test", { disabled: true }, bobToken)).status)
      .toBe(404);
    expect((await call("DELETE", "/api/v1/me/aliases/ann-news@alias.test", undefined, bobToken)).status).toBe(404);
    const off = await call("PATCH", "/api/v1/me/aliases/ann-news@alias.test", { disabled: true }, annToken);
    expect(await off.json()).toMatchObject({ disabled: true });
    expect((await store.aliases.route("ann-news@alias.test"))?.disabled).toBe(true);
    // The admin sees it, with its owner.
    expect(await (await call("GET", "/api/v1/aliases/ann-news@alias.test")).json()).toMatchObject({
      owner: "ann@example.test",
    });
    expect((await call("DELETE", "/api/v1/me/aliases/ann-news@alias.test", undefined, annToken)).status).toBe(204);
    expect(await store.aliases.get("ann-news@alias.test")).toBeUndefined();

    // Closing the domain again stops new ones.
    expect((await call("PATCH", "/api/v1/domains/alias.test/owner-aliases", { allowed: false })).status).toBe(204);
    expect((await call("POST", "/api/v1/me/aliases", { address: "again@alias.test" }, annToken)).status).toBe(400);
    expect((await call("PATCH", "/api/v1/domains/nowhere.test/owner-aliases", { allowed: true })).status).toBe(404);
  });

  test("reverse aliases are turned on and off per domain by the admin only", async () => {
    const flag = async () => (await store.domains.get("alias.test"))?.reverseAliases;
    expect(await flag()).toBe(false);
    expect((await call("PATCH", "/api/v1/domains/alias.test/reverse-aliases", { enabled: true })).status).toBe(204);
    expect(await flag()).toBe(true);
    expect(
      (await call("PATCH", "/api/v1/domains/alias.test/reverse-aliases", { enabled: false }, annToken)).status,
    ).toBe(401);
    expect((await call("PATCH", "/api/v1/domains/alias.test/reverse-aliases", { enabled: "yes" })).status).toBe(400);
    expect((await call("PATCH", "/api/v1/domains/nowhere.test/reverse-aliases", { enabled: true })).status).toBe(404);
    expect((await call("PATCH", "/api/v1/domains/alias.test/reverse-aliases", { enabled: false })).status).toBe(204);
    expect(await flag()).toBe(false);
  });
});
