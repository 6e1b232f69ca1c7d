import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { runtime } from "../helpers/runtime.ts";
import { type ServerProcess, startServer } from "../helpers/server.ts";

describe(`postern serve on ${runtime()}`, () => {
  let server: ServerProcess;

  beforeAll(async () => {
    server = await startServer({ waitFor: ["http", "smtp"] });
    console.log(`[${runtime()}] process start to listening: ${server.startupMs.toFixed(0)} ms`);
  });
  afterAll(async () => {
    if (server.proc.exitCode === null) await server.stop();
  });

  test("/healthz answers with the version and uptime", async () => {
    const res = await fetch(`http://127.0.0.1:${server.ports.http}/healthz`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { status: string; version: string; uptime: number };
    expect(body.status).toBe("ok");
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(body.uptime).toBeGreaterThanOrEqual(0);
  });

  test("/metrics counts open connections per listener", async () => {
    const socket = connect(server.ports.smtp!, "127.0.0.1");
    await new Promise((resolve) => socket.once("data", resolve));
    const text = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
    expect(text).toContain('postern_open_connections{listener="smtp"} 1');
    expect(text).toMatch(/postern_connections_total\{listener="smtp"\} [1-9]/);
    socket.destroy();
  });

  test("unknown routes are 404 problem documents", async () => {
    const res = await fetch(`http://127.0.0.1:${server.ports.http}/nope`);
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
  });

  test("the database was created and migrated under dataDir", async () => {
    const list = await server.cli(["domain", "list"]);
    expect(list.code).toBe(0);
  });

  test("SIGTERM ends it cleanly", async () => {
    const code = await server.stop("SIGTERM");
    expect(code).toBe(0);
    expect(server.log()).toContain("postern stopped");
  });
});
