/**
 * contrib/systemd/postern.service is valid for systemd (`systemd-analyze verify`: no unknown key, no value it
 * cannot parse) and its hardening holds (`systemd-analyze security --offline`). Skipped without systemd-analyze.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../helpers/runtime.ts";
import { tempDir } from "../helpers/tmp.ts";

const ANALYZE = Bun.which("systemd-analyze");
if (!ANALYZE) console.warn("skipping the systemd unit checks: systemd-analyze (Debian systemd) is not installed");

const UNIT = readFileSync(join(ROOT, "contrib/systemd/postern.service"), "utf8");
let dir: ReturnType<typeof tempDir>;
let unit: string;

beforeAll(() => {
  dir = tempDir();
  unit = join(dir.path, "postern.service");
  // verify also checks that ExecStart's program exists: point it at one that does, arguments unchanged.
  writeFileSync(unit, UNIT.replace("ExecStart=/usr/local/bin/postern ", `ExecStart=${process.execPath} `));
});
afterAll(() => dir.cleanup());

function analyze(args: string[]) {
  const result = Bun.spawnSync([ANALYZE!, ...args], {
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, SYSTEMD_LOG_COLOR: "0" },
  });
  return { code: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() };
}

describe.skipIf(!ANALYZE)("contrib/systemd/postern.service", () => {
  test("systemd-analyze verify finds nothing to say", () => {
    const result = analyze(["verify", unit]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
  });

  test("a misspelt key would be reported (the check is not blind)", () => {
    const broken = join(dir.path, "broken.service");
    writeFileSync(broken, readFileSync(unit, "utf8").replace("ProtectSystem=strict", "ProtectSytem=strict"));
    expect(analyze(["verify", broken]).stderr).toContain("Unknown key");
  });

  test("binds low ports through CAP_NET_BIND_SERVICE only, reloads with SIGHUP, and is hardened", () => {
    expect(UNIT).toMatch(/^AmbientCapabilities=CAP_NET_BIND_SERVICE$/m);
    expect(UNIT).toMatch(/^CapabilityBoundingSet=CAP_NET_BIND_SERVICE$/m);
    expect(UNIT).toMatch(/^User=postern$/m);
    expect(UNIT).toMatch(/^ExecReload=\/bin\/kill -HUP \$MAINPID$/m);
    const security = analyze(["security", "--offline=yes", unit]);
    const level = /Overall exposure level for postern\.service: ([\d.]+)/.exec(security.stdout);
    if (!level) {
      console.warn(`systemd-analyze security --offline is not supported here: ${security.stderr.trim()}`);
      return;
    }
    // 0 is fully locked down, 10 is unprotected; systemd calls below 2 "OK".
    expect(Number(level[1])).toBeLessThan(2.5);
  });
});
