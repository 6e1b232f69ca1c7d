import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runPostern } from "../helpers/runtime.ts";
import { tempDir } from "../helpers/tmp.ts";

let dir: ReturnType<typeof tempDir>;
let config: string;

beforeAll(() => {
  dir = tempDir();
  config = join(dir.path, "postern.json");
  writeFileSync(config, JSON.stringify({ dataDir: join(dir.path, "data") }));
});
afterAll(() => dir.cleanup());

// The CLI runs on Bun here; the e2e suite repeats the serve tests on Deno and the binary.
const postern = (args: string[], stdin?: string) =>
  runPostern([...args, "--config", config], { stdin, runtime: "bun" });

describe("postern CLI", () => {
  test("--version and --help", async () => {
    const version = await runPostern(["--version"], { runtime: "bun" });
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    const help = await runPostern(["--help"], { runtime: "bun" });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("postern user add");
  });

  test("migrate applies once, then reports up to date", async () => {
    const first = await postern(["migrate"]);
    expect(first.code).toBe(0);
    const second = await postern(["migrate"]);
    expect(second.stdout).toContain("up to date");
  });

  test("user add then user list shows it; a duplicate is a clear error", async () => {
    expect((await postern(["domain", "add", "example.com"])).code).toBe(0);
    const add = await postern(["user", "add", "alice@example.com", "--password", "s3cret", "--name", "Alice"]);
    expect(add.code).toBe(0);
    expect(add.stdout).toContain("added account alice@example.com");
    const list = await postern(["user", "list"]);
    expect(list.stdout).toContain("alice@example.com\tAlice\tactive");
    const again = await postern(["user", "add", "alice@example.com", "--password", "x"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("Account alice@example.com already exists");
  });

  test("--password-stdin and passwd", async () => {
    expect((await postern(["user", "add", "bob@example.com", "--password-stdin"], "from stdin\n")).code).toBe(0);
    expect((await postern(["user", "passwd", "bob@example.com", "--password-stdin"], "changed\n")).code).toBe(0);
    const missing = await postern(["user", "passwd", "nobody@example.com", "--password", "x"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No such account");
  });

  test("user admin marks an account admin (list says so), --off takes it away; add --admin at once", async () => {
    expect((await postern(["user", "admin", "alice@example.com"])).stdout).toContain(
      "may sign in to the admin console",
    );
    expect((await postern(["user", "list"])).stdout).toContain("alice@example.com\tAlice\tactive,admin");
    expect((await postern(["user", "admin", "alice@example.com", "--off"])).code).toBe(0);
    expect((await postern(["user", "list"])).stdout).toContain("alice@example.com\tAlice\tactive\n");
    const added = await postern(["user", "add", "root@example.com", "--password", "s3cret", "--admin"]);
    expect(added.stdout).toContain("added account root@example.com (admin)");
    const missing = await postern(["user", "admin", "nobody@example.com"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("No such account");
  });

  test("alias add, list and remove", async () => {
    const add = await postern(["alias", "add", "@example.com", "alice@example.com", "https://hooks.example.net/x"]);
    expect(add.code).toBe(0);
    expect((await postern(["alias", "list"])).stdout).toContain(
      "@example.com\talice@example.com https://hooks.example.net/x",
    );
    expect((await postern(["alias", "remove", "@example.com"])).code).toBe(0);
    expect((await postern(["alias", "list"])).stdout).toBe("");
  });

  test("domain list and remove of a domain in use", async () => {
    expect((await postern(["domain", "list"])).stdout).toContain("example.com\tmailbox");
    const busy = await postern(["domain", "remove", "example.com"]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain("still has accounts");
  });

  test("bad arguments print a reason and the usage, exit 2", async () => {
    const unknown = await postern(["frobnicate"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown command: frobnicate");
    expect(unknown.stderr).toContain("Usage: postern");
    const noPassword = await postern(["user", "add", "carol@example.com"]);
    expect(noPassword.code).toBe(2);
    expect(noPassword.stderr).toContain("A password is required");
    const badFlag = await postern(["user", "list", "--bogus"]);
    expect(badFlag.code).toBe(2);
  });

  test("a wrong --config exits 2 naming the problem", async () => {
    const missing = await runPostern(["user", "list", "--config", join(dir.path, "nope.json")], { runtime: "bun" });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot read the config file");
    const bad = join(dir.path, "bad.json");
    writeFileSync(bad, JSON.stringify({ listeners: { smtp: { port: "twenty-five" } } }));
    const invalid = await runPostern(["serve", "--config", bad], { runtime: "bun" });
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("listeners.smtp.port");
    expect(invalid.stderr).toContain('"twenty-five"');
  });
});
