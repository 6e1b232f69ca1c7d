/**
 * JMAP PushSubscription/set and private push URLs (issue 18, server-side request forgery),
 * through Hono's `app.request()` over a real store: without `outbound.allowPrivateTargets`, a url
 * at 127.0.0.1, 10.0.0.1, 169.254.169.254, [::1] or a name resolving to 127.0.0.1 is refused with
 * invalidProperties on url and nothing is POSTed; with the switch, loopback is verified as before.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import { createResolver } from "../../src/net/dns.ts";
import type { Store } from "../../src/store/store.ts";
import { DnsServer } from "../helpers/dns-server.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;
let dns: DnsServer;
let endpoint: ReturnType<typeof Bun.serve>;
let token: string;
const received: string[] = [];

beforeAll(async () => {
  ({ store, cleanup } = await openTempStore());
  dns = await DnsServer.start();
  dns.add("push.inside.test", { type: "A", address: "127.0.0.1" });
  endpoint = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      received.push(new URL(request.url).pathname);
      await request.arrayBuffer();
      return new Response(null, { status: 201 });
    },
  });
  await store.domains.add("example.test");
  await store.accounts.add({ address: "ann@example.test", password: "long enough password" });
  token = (await store.tokens.create("ann@example.test", "push")).token;
});
afterAll(() => {
  endpoint?.stop(true);
  dns?.close();
  cleanup();
});

function appWith(allowPrivateTargets?: boolean | string[]) {
  const resolve = createResolver([`127.0.0.1:${dns.port}`], { timeoutMs: 1000, attempts: 1 });
  return createApp({
    version: "0.0.0",
    startedAt: Date.now(),
    metrics: () => [],
    store,
    outbound: { allowPrivateTargets, resolve },
  });
}

async function create(app: ReturnType<typeof createApp>, urls: Record<string, string>) {
  const res = await app.request("/jmap/api", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      using: ["urn:ietf:params:jmap:core"],
      methodCalls: [[
        "PushSubscription/set",
        { create: Object.fromEntries(Object.entries(urls).map(([k, url]) => [k, { deviceClientId: "d", url }])) },
        "c",
      ]],
    }),
  });
  expect(res.status).toBe(200);
  // deno-lint-ignore no-explicit-any -- the response shape read as the test goes
  return ((await res.json()) as { methodResponses: [string, Record<string, any>, string][] }).methodResponses[0]![1];
}

describe("PushSubscription/set with private urls", () => {
  test("refused without outbound.allowPrivateTargets: invalidProperties on url, nothing POSTed", async () => {
    const port = endpoint.port;
    const made = await create(appWith(), {
      loopback: `http://127.0.0.1:${port}/a`,
      private: "https://10.0.0.1/b",
      metadata: "https://169.254.169.254/latest/meta-data/",
      v6: `https://[::1]:${port}/c`,
      name: `https://push.inside.test:${port}/d`,
    });
    expect(made.created).toEqual({});
    for (const key of ["loopback", "private", "metadata", "v6", "name"]) {
      expect([key, made.notCreated[key]?.type, made.notCreated[key]?.properties]).toEqual([
        key,
        "invalidProperties",
        ["url"],
      ]);
    }
    expect(made.notCreated.name.description).toContain("127.0.0.1");
    await Bun.sleep(100);
    expect(received).toEqual([]);
  });

  test("with loopback allowed, a loopback url is created and verified", async () => {
    const made = await create(appWith(["127.0.0.1", "::1"]), {
      loopback: `http://127.0.0.1:${endpoint.port}/ok`,
      metadata: "https://169.254.169.254/latest/meta-data/",
    });
    expect(Object.keys(made.created)).toEqual(["loopback"]);
    expect(made.notCreated.metadata.properties).toEqual(["url"]);
    const started = Date.now();
    while (!received.includes("/ok") && Date.now() - started < 5000) await Bun.sleep(20);
    expect(received).toEqual(["/ok"]);
  });
});
