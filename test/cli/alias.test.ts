/**
 * `postern alias` beyond add/list/remove (issue 19): plain-HTTP webhook targets are accepted for
 * loopback hosts, and for others only with webhooks.allowHttp.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPostern } from "../helpers/runtime.ts";
import { tempDir } from "../helpers/tmp.ts";

let dir: ReturnType<typeof tempDir>;
let config: string;
let permissive: string;

beforeAll(async () => {
  dir = tempDir();
  config = join(dir.path, "postern.json");
  permissive = join(dir.path, "allow-http.json");
  writeFileSync(config, JSON.stringify({ dataDir: join(dir.path, "data") }));
  writeFileSync(permissive, JSON.stringify({ dataDir: join(dir.path, "data"), webhooks: { allowHttp: true } }));
  await postern(["domain", "add", "alias.test", "--forward"]);
});
afterAll(() => dir.cleanup());

const postern = (args: string[], file = config) => runPostern([...args, "--config", file], { runtime: "bun" });

describe("postern alias", () => {
  test("an http:// webhook on loopback is accepted; elsewhere it needs webhooks.allowHttp", async () => {
    expect((await postern(["alias", "add", "local@alias.test", "http://127.0.0.1:8080/in"])).code).toBe(0);
    expect((await postern(["alias", "add", "local@alias.test", "http://localhost/in"])).code).toBe(0);
    const refused = await postern(["alias", "add", "lan@alias.test", "http://hooks.internal.test/in"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("webhooks.allowHttp");
    expect((await postern(["alias", "list"])).stdout).not.toContain("lan@alias.test");
    const allowed = await postern(["alias", "add", "lan@alias.test", "http://hooks.internal.test/in"], permissive);
    expect(allowed.code).toBe(0);
    expect((await postern(["alias", "list"])).stdout).toContain("lan@alias.test\thttp://hooks.internal.test/in");
  });
});
