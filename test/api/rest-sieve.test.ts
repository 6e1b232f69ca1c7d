/**
 * An account's Sieve scripts over REST (`/api/v1/accounts/{address}/sieve`) through Hono's `app.request()`, over a
 * real store: list, get, put (checked, with the error's line and column), activate, deactivate, delete, and the
 * refusals; the OpenAPI document lists the routes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

const TOKEN = "test-admin-token-0123456789";
const BASE = "/api/v1/accounts/ann@example.test/sieve";
let store: Store;
let cleanup: () => void;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  ({ store, cleanup } = await openTempStore());
  await store.domains.add("example.test");
  await store.accounts.add({ address: "ann@example.test", password: "ann-password" });
  app = createApp({ version: "0.0.0", startedAt: Date.now(), metrics: () => [], store, adminToken: TOKEN });
});
afterAll(() => cleanup());

function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
}

const SCRIPT = 'require "fileinto";\nif header :contains "subject" "invoice" { fileinto "Bills"; }\n';

describe("REST Sieve scripts", () => {
  test("admin token required", async () => {
    expect((await call("GET", BASE, undefined, null)).status).toBe(401);
  });

  test("put, list, get, activate, deactivate, delete", async () => {
    const created = await call("PUT", `${BASE}/bills`, { content: SCRIPT });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({ name: "bills", active: false });
    const replaced = await call("PUT", `${BASE}/bills`, { content: SCRIPT, activate: true });
    expect(replaced.status).toBe(200);
    expect(await replaced.json()).toEqual({ name: "bills", active: true });
    expect(await store.sieve.active((await store.accounts.get("ann@example.test"))!.id)).toEqual({
      name: "bills",
      content: SCRIPT,
    });
    expect((await call("PUT", `${BASE}/${encodeURIComponent("keep all")}`, { content: "keep;" })).status).toBe(201);

    const list = (await (await call("GET", BASE)).json()) as Array<Record<string, unknown>>;
    expect(list.map(({ name, active, size }) => ({ name, active, size }))).toEqual([
      { name: "bills", active: true, size: SCRIPT.length },
      { name: "keep all", active: false, size: 5 },
    ]);
    expect(typeof list[0]!.updatedAt).toBe("string");
    expect(await (await call("GET", `${BASE}/bills`)).json()).toEqual({ name: "bills", active: true, content: SCRIPT });

    // The active script cannot be deleted.
    const active = await call("DELETE", `${BASE}/bills`);
    expect(active.status).toBe(409);
    expect(((await active.json()) as { detail: string }).detail).toBe("Script bills is active; deactivate it first");
    expect((await call("POST", `${BASE}/${encodeURIComponent("keep all")}/activate`)).status).toBe(204);
    expect((await (await call("GET", `${BASE}/bills`)).json() as { active: boolean }).active).toBe(false);
    expect((await call("POST", `${BASE}/deactivate`)).status).toBe(204);
    expect(await store.sieve.active((await store.accounts.get("ann@example.test"))!.id)).toBeNull();
    expect((await call("DELETE", `${BASE}/bills`)).status).toBe(204);
    expect((await call("DELETE", `${BASE}/${encodeURIComponent("keep all")}`)).status).toBe(204);
    expect(await (await call("GET", BASE)).json()).toEqual([]);
  });

  test("refusals: invalid Sieve with line and column, bad names, unknown scripts and accounts, bad bodies", async () => {
    const invalid = await call("PUT", `${BASE}/broken`, { content: 'require "fileinto";\nfileinto "x"\n' });
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toMatchObject({
      type: "/problems/invalid-script",
      detail: expect.stringMatching(/^Script broken is not valid Sieve: line 3, column 1: /),
    });
    expect(await (await call("GET", BASE)).json()).toEqual([]);
    expect((await call("PUT", `${BASE}/${"x".repeat(129)}`, { content: "keep;" })).status).toBe(400);
    const tooBig = await call("PUT", `${BASE}/big`, { content: `#${"x".repeat(1024 * 1024)}\n` });
    expect(tooBig.status).toBe(413);
    expect((await call("GET", `${BASE}/nope`)).status).toBe(404);
    expect((await call("DELETE", `${BASE}/nope`)).status).toBe(404);
    expect((await call("POST", `${BASE}/nope/activate`)).status).toBe(404);
    expect((await call("GET", "/api/v1/accounts/nobody@example.test/sieve")).status).toBe(404);
    expect((await call("PUT", `${BASE}/x`, { content: 42 })).status).toBe(400);
    expect((await call("PUT", `${BASE}/x`, { content: "keep;", extra: 1 })).status).toBe(400);
  });

  test("the OpenAPI document lists the routes", async () => {
    const doc = (await (await call("GET", "/api/openapi.json")).json()) as { paths: Record<string, object> };
    expect(Object.keys(doc.paths["/api/v1/accounts/{address}/sieve/{name}"]!).sort()).toEqual(["delete", "get", "put"]);
    expect(Object.keys(doc.paths["/api/v1/accounts/{address}/sieve/deactivate"]!)).toEqual(["post"]);
  });
});
