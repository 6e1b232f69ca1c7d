/**
 * `postern alias` beyond add/list/remove (issue 19): plain-HTTP webhook targets (loopback, or
 * anywhere with webhooks.allowHttp), disable/enable, state and counters in `alias list`, pattern
 * aliases, which domains let owners manage their own aliases, and which have reverse aliases.
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
  writeFileSync(
    permissive,
    JSON.stringify({
      dataDir: join(dir.path, "data"),
      webhooks: { allowHttp: true },
      outbound: { allowPrivateTargets: ["127.0.0.1", "::1"] },
    }),
  );
  await postern(["domain", "add", "alias.test", "--forward"]);
});
afterAll(() => dir.cleanup());

const postern = (args: string[], file = config) => runPostern([...args, "--config", file], { runtime: "bun" });

describe("postern alias", () => {
  test("an http:// webhook on loopback is accepted; elsewhere it needs webhooks.allowHttp", async () => {
    // Loopback is a private target: refused unless outbound.allowPrivateTargets allows it (issue 18).
    const loopback = await postern(["alias", "add", "local@alias.test", "http://127.0.0.1:8080/in"]);
    expect(loopback.code).toBe(1);
    expect(loopback.stderr).toContain("outbound.allowPrivateTargets");
    expect((await postern(["alias", "add", "local@alias.test", "http://127.0.0.1:8080/in"], permissive)).code).toBe(0);
    expect((await postern(["alias", "add", "local@alias.test", "http://localhost/in"], permissive)).code).toBe(0);
    const refused = await postern(["alias", "add", "lan@alias.test", "http://hooks.internal.test/in"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("webhooks.allowHttp");
    expect((await postern(["alias", "list"])).stdout).not.toContain("lan@alias.test");
    const allowed = await postern(["alias", "add", "lan@alias.test", "http://hooks.internal.test/in"], permissive);
    expect(allowed.code).toBe(0);
    expect((await postern(["alias", "list"])).stdout).toContain("lan@alias.test\thttp://hooks.internal.test/in");
  });

  test("disable, enable, and state and counters in the list; a pattern alias", async () => {
    expect((await postern(["alias", "add", "shop-*@alias.test", "me@real.test"])).code).toBe(0);
    expect((await postern(["alias", "add", "leaked@alias.test", "me@real.test"])).code).toBe(0);
    const off = await postern(["alias", "disable", "Leaked@alias.test"]);
    expect(off).toMatchObject({ code: 0, stdout: "leaked@alias.test disabled\n" });
    const lines = (await postern(["alias", "list"])).stdout.split("\n");
    expect(lines).toContain("leaked@alias.test\tme@real.test\tdisabled\tforwarded=0\trefused=0\tlast-used=never");
    expect(lines).toContain("shop-*@alias.test\tme@real.test\tenabled\tforwarded=0\trefused=0\tlast-used=never");
    expect((await postern(["alias", "enable", "leaked@alias.test"])).stdout).toBe("leaked@alias.test enabled\n");
    const missing = await postern(["alias", "disable", "nobody@alias.test"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No such alias: nobody@alias.test");
    expect((await postern(["alias", "disable"])).code).toBe(2);
  });

  test("owners on|off opens a domain to accounts' own aliases", async () => {
    expect((await postern(["alias", "owners", "alias.test", "on"])).stdout).toContain("may manage");
    expect((await postern(["alias", "owners", "alias.test", "off"])).stdout).toContain("may not manage");
    expect((await postern(["alias", "owners", "alias.test", "maybe"])).code).toBe(2);
    expect((await postern(["alias", "owners", "nowhere.test", "on"])).code).toBe(1);
  });

  test("reverse on|off turns reply-through-the-alias on for a domain, and warns without srs.secret", async () => {
    const on = await postern(["alias", "reverse", "alias.test", "on"]);
    expect(on.code).toBe(0);
    expect(on.stdout).toContain("reverse aliases on at alias.test");
    expect(on.stderr).toContain("srs.secret");
    expect((await postern(["alias", "reverse", "alias.test", "off"])).stdout).toContain("reverse aliases off");
    expect((await postern(["alias", "reverse", "alias.test"])).code).toBe(2);
    expect((await postern(["alias", "reverse", "nowhere.test", "on"])).code).toBe(1);
  });
});
