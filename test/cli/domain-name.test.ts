/**
 * Issue 18, finding 6: `postern dkim generate '../../cli/pwn'` wrote outside `<dataDir>/dkim`.
 * One check (src/util/domain-name.ts) guards every domain name and DKIM selector that becomes a
 * file name or a DNS name: the CLI, the REST admin API (through the store) and the config.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "../../src/api/app.ts";
import { parseConfig } from "../../src/config/load.ts";
import { checkDomainName, checkSelector } from "../../src/util/domain-name.ts";
import { runPostern } from "../helpers/runtime.ts";
import { openTempStore } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

describe("checkDomainName and checkSelector", () => {
  test("IDNA to lower-case A-labels; one root dot is dropped", () => {
    expect(checkDomainName("Bücher.Example.")).toEqual({ ok: true, name: "xn--bcher-kva.example" });
    expect(checkDomainName("MX1.example.COM")).toEqual({ ok: true, name: "mx1.example.com" });
    expect(checkDomainName("localhost")).toEqual({ ok: true, name: "localhost" });
    expect(checkSelector("Postern2026")).toEqual({ ok: true, name: "postern2026" });
  });

  const badDomains = [
    "../../cli/pwn",
    "..",
    "a/b.test",
    "a\\b.test",
    "a..b.test",
    ".a.test",
    "-a.test",
    "a-.test",
    "a_b.test",
    "a b.test",
    "a\r\nb.test",
    "a\x00.test",
    "1.2.3.4",
    "",
    `${"a".repeat(64)}.test`,
    `${"a.".repeat(127)}test`,
  ];
  for (const name of badDomains) {
    test(`domain ${JSON.stringify(name).slice(0, 40)} is refused with a reason`, () => {
      const checked = checkDomainName(name);
      expect(checked.ok).toBe(false);
      if (!checked.ok) expect(checked.reason.length).toBeGreaterThan(5);
    });
  }

  test("a selector is one LDH label of at most 63 characters", () => {
    for (const bad of ["../x", "a/b", "a.b", "", "-a", "a_b", "x".repeat(64)]) {
      expect(checkSelector(bad).ok).toBe(false);
    }
    expect(checkSelector("x".repeat(63)).ok).toBe(true);
  });
});

describe("config: the dkim keys", () => {
  test("a bad domain or selector names the key and the reason", () => {
    expect(() => parseConfig({ dkim: { "../x": { selector: "s", privateKey: "k.pem" } } })).toThrow(
      /dkim\.\.\.\/x = "\.\.\/x": not a valid name: it contains a space, slash or control character/,
    );
    expect(() => parseConfig({ dkim: { "example.test": { selector: "../s", privateKey: "k.pem" } } })).toThrow(
      /dkim\.example\.test\.selector = "\.\.\/s": not a valid name/,
    );
    const ok = parseConfig({ dkim: { "example.test": { selector: "s1", privateKey: "k.pem" } } });
    expect(Object.keys(ok.dkim)).toEqual(["example.test"]);
  });
});

describe("the CLI", () => {
  let dir: ReturnType<typeof tempDir>;
  let config: string;
  let dataDir: string;
  beforeAll(() => {
    dir = tempDir();
    dataDir = join(dir.path, "deep", "data");
    mkdirSync(dataDir, { recursive: true });
    config = join(dir.path, "postern.json");
    writeFileSync(config, JSON.stringify({ dataDir }));
  });
  afterAll(() => dir.cleanup());
  const postern = (args: string[]) => runPostern([...args, "--config", config], { runtime: "bun" });

  test("dkim generate refuses a domain with a path in it, and writes nothing", async () => {
    for (const name of ["../../pwn", "../pwn", "a/../../pwn", "..", "a_b.test"]) {
      const result = await postern(["dkim", "generate", name]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`${JSON.stringify(name)} is not a valid domain name`);
    }
    const selector = await postern(["dkim", "generate", "example.test", "--selector", "../../x"]);
    expect(selector.code).toBe(2);
    expect(selector.stderr).toContain('"../../x" is not a valid DKIM selector');
    expect(readdirSync(dir.path).sort()).toEqual(["deep", "postern.json"]);
    expect(readdirSync(join(dir.path, "deep")).sort()).toEqual(["data"]);
    expect(existsSync(join(dataDir, "dkim"))).toBe(false);
  });

  test("dkim generate writes an IDN domain's key under its A-label and prints the record for it", async () => {
    const result = await postern(["dkim", "generate", "Bücher.Example", "--selector", "S1"]);
    expect(result.code).toBe(0);
    expect(readdirSync(join(dataDir, "dkim"))).toEqual(["xn--bcher-kva.example.s1.key"]);
    expect(result.stdout).toStartWith("s1._domainkey.xn--bcher-kva.example. IN TXT ");
  });

  test("domain add and remove refuse a bad name with the reason", async () => {
    const result = await postern(["domain", "add", "evil/../name.test"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('"evil/../name.test" is not a valid domain name');
    expect((await postern(["domain", "remove", "a..b"])).stderr).toContain('"a..b" is not a valid domain name');
  });
});

describe("the REST admin API", () => {
  test("POST /api/v1/domains refuses a bad name with 400 naming it, and stores an IDN as A-labels", async () => {
    const { store, cleanup } = await openTempStore();
    try {
      const token = "admin-token-0123456789";
      const app = createApp({ version: "0", startedAt: Date.now(), metrics: () => [], store, adminToken: token });
      const post = (name: string) =>
        app.request("/api/v1/domains", {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ name }),
        });
      for (const name of ["../../pwn", "a_b.test", "a..b"]) {
        const res = await post(name);
        expect(res.status).toBe(400);
        expect(JSON.stringify(await res.json())).toContain(name);
      }
      const ok = await post("Bücher.Example");
      expect(ok.status).toBe(201);
      expect(await ok.json()).toMatchObject({ name: "xn--bcher-kva.example" });
    } finally {
      cleanup();
    }
  });
});
