/**
 * `/metrics` behind the admin token (issue 20, item 5; `metrics.requireToken`): a 401 problem
 * document without the token or with a wrong one, the exposition with `Authorization: Bearer`.
 */
import { describe, expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import { ConfigError, parseConfig } from "../../src/config/load.ts";

const TOKEN = "metrics-token-0123456789abcdef";

describe("/metrics and the admin token", () => {
  const app = createApp({ version: "0.0.0", startedAt: Date.now(), metrics: () => [], metricsToken: TOKEN });

  test("without a token, with a wrong one, or another scheme: 401 problem document", async () => {
    for (
      const authorization of [undefined, "Bearer not-the-token", `Basic ${btoa(`x:${TOKEN}`)}`, `Bearer ${TOKEN}x`]
    ) {
      const response = await app.request("/metrics", { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(401);
      expect(response.headers.get("content-type")).toBe("application/problem+json");
      expect(response.headers.get("www-authenticate")).toBe('Bearer realm="postern"');
      const body = await response.json();
      expect(body).toMatchObject({ type: "/problems/unauthorized", title: "Unauthorized", status: 401 });
      expect(JSON.stringify(body)).not.toContain("postern_");
    }
  });

  test("a scrape with Authorization: Bearer gets the exposition", async () => {
    const response = await app.request("/metrics", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    expect(await response.text()).toContain("postern_build_info");
  });

  test("without metricsToken it is open", async () => {
    const open = createApp({ version: "0.0.0", startedAt: Date.now(), metrics: () => [] });
    expect((await open.request("/metrics")).status).toBe(200);
  });

  test("metrics.requireToken: true needs api.adminToken", () => {
    expect(() => parseConfig({ metrics: { requireToken: true } })).toThrow(ConfigError);
    expect(() => parseConfig({ metrics: { requireToken: true } })).toThrow(/metrics\.requireToken.*api\.adminToken/);
    const config = parseConfig({ metrics: { requireToken: false }, api: { adminToken: TOKEN } });
    expect(config.metrics.requireToken).toBe(false);
  });
});
