/**
 * What tripped the newcomer (issue 20, item 9), each through the real command line:
 * `dkim generate` never replaces a key without --force, several selectors and rotation
 * (`activate`, `show`); a relative dataDir is the config file's; a busy port names the listener,
 * the address and the setting, exit 2, no stack trace; the self-signed certificate names the host
 * name and the listeners' addresses; `npx deno task start` runs; killing `npm start` stops the
 * server; an embedded Postern opens only the listeners its config names.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createKeyring, loadDkimKeys } from "../../src/forward/dkim.ts";
import { createPostern } from "../../src/index.ts";
import { createSelfSigned, loadOrCreateCertificate } from "../../src/net/certificate.ts";
import { freePortPair } from "../helpers/ports.ts";
import { posternCommand, ROOT, runPostern } from "../helpers/runtime.ts";
import { childrenOf, isRunning } from "../helpers/serve-process.ts";
import { tempDir } from "../helpers/tmp.ts";

const tmp = tempDir("postern-newcomer-");
afterAll(() => tmp.cleanup());

const OFF = Object.fromEntries(
  ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "managesieve", "http"].map((l) => [
    l,
    false,
  ]),
);

/** A config file in its own folder, with a relative dataDir. */
function configIn(name: string, extra: Record<string, unknown> = {}): { dir: string; file: string; dataDir: string } {
  const dir = join(tmp.path, name);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "postern.json");
  writeFileSync(file, JSON.stringify({ dataDir: "./data", listeners: OFF, ...extra }));
  return { dir, file, dataDir: join(dir, "data") };
}

const record = (stdout: string) => /IN TXT "([^"]+)"/.exec(stdout)![1]!;

describe("dkim keys", () => {
  const { file, dataDir } = configIn("dkim");
  const dkim = (...args: string[]) => runPostern(["dkim", ...args, "--config", file]);

  test("generate refuses to replace a key without --force, and replaces it with", async () => {
    const first = await dkim("generate", "example.test", "--selector", "s1");
    expect(first.code).toBe(0);
    expect(first.stderr).toContain("signed with it");
    const path = join(dataDir, "dkim", "example.test.s1.key");
    const key = readFileSync(path, "utf8");
    const again = await dkim("generate", "example.test", "--selector", "s1");
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("--force");
    expect(again.stderr).toContain("dkim activate example.test");
    expect(readFileSync(path, "utf8")).toBe(key);
    expect(loadDkimKeys({}, dataDir).get("example.test")!.privateKey).toBe(key);
    const forced = await dkim("generate", "example.test", "--selector", "s1", "--force");
    expect(forced.code).toBe(0);
    expect(readFileSync(path, "utf8")).not.toBe(key);
  }, 60_000);

  test("a second selector waits for activate; show prints both records; the running keyring follows", async () => {
    const keyring = createKeyring({}, dataDir);
    const s1 = readFileSync(join(dataDir, "dkim", "example.test.s1.key"), "utf8");
    const second = await dkim("generate", "example.test", "--selector", "s2", "--algorithm", "ed25519");
    expect(second.code).toBe(0);
    expect(second.stderr).toContain("not used yet");
    expect(keyring().get("example.test")).toMatchObject({ selector: "s1", privateKey: s1 });

    const shown = await dkim("show", "example.test");
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain("; selector s1 (active");
    expect(shown.stdout).toContain("; selector s2 (inactive)");
    expect(shown.stdout).toContain(`s2._domainkey.example.test. IN TXT "${record(second.stdout)}"`);
    expect(record(second.stdout)).toStartWith("v=DKIM1; k=ed25519; p=");

    const activated = await dkim("activate", "example.test", "s2");
    expect(activated.code).toBe(0);
    expect(activated.stdout).toContain(record(second.stdout));
    expect(keyring().get("example.test")!.selector).toBe("s2");
    expect((await dkim("show", "example.test")).stdout).toContain("; selector s2 (active");

    expect((await dkim("activate", "example.test", "s9")).code).toBe(1);
    expect((await dkim("show", "other.test")).code).toBe(1);
    expect((await dkim("activate", "example.test")).code).toBe(2);
  }, 60_000);
});

describe("configuration and start-up", () => {
  test("a relative dataDir is the config file's, wherever the command runs", async () => {
    const { file, dataDir } = configIn("relative");
    // runPostern runs in the repository root, not beside the config.
    expect((await runPostern(["domain", "add", "rel.test", "--config", file])).code).toBe(0);
    expect(existsSync(join(dataDir, "postern.db"))).toBe(true);
    const listed = await runPostern(["domain", "list"], { env: { POSTERN_CONFIG: file } });
    expect(listed.stdout).toContain("rel.test");
  }, 30_000);

  test("a busy port names the listener, the address and the setting, and exits 2 without a stack trace", async () => {
    const [port] = await freePortPair();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, "127.0.0.1", resolve));
    try {
      const { file } = configIn("busy", { listeners: { ...OFF, submission: { host: "127.0.0.1", port } } });
      const result = await runPostern(["serve", "--config", file, "--workers", "1"]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`Cannot listen on 127.0.0.1:${port} for listeners.submission`);
      expect(result.stderr).toContain("already in use");
      expect(result.stderr).toContain("POSTERN_LISTENERS_SUBMISSION_PORT");
      expect(result.stderr).not.toMatch(/^\s+at /m);
    } finally {
      holder.close();
    }
  }, 30_000);

  test("the self-signed certificate names the host name and the listeners' addresses", async () => {
    const [port] = await freePortPair();
    const { file, dataDir } = configIn("cert", {
      hostname: "mx.newcomer.test",
      listeners: { ...OFF, submission: { host: "127.0.0.1", port } },
    });
    const proc = Bun.spawn(posternCommand(["serve", "--config", file, "--workers", "1"]), {
      cwd: ROOT,
      stdout: "ignore",
      stderr: "pipe",
    });
    const log = new Response(proc.stderr).text();
    const certPath = join(dataDir, "tls", "selfsigned.crt");
    for (let i = 0; i < 200 && !existsSync(certPath); i++) await Bun.sleep(50);
    await Bun.sleep(200);
    proc.kill("SIGTERM");
    await proc.exited;
    const cert = new X509Certificate(readFileSync(certPath));
    expect(cert.checkHost("mx.newcomer.test")).toBe("mx.newcomer.test");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(await log).toContain("names=mx.newcomer.test,localhost,127.0.0.1");
  }, 30_000);

  test("a self-signed certificate that does not name them (an older one: localhost only) is made again", async () => {
    const dataDir = join(tmp.path, "old-cert");
    mkdirSync(join(dataDir, "tls"), { recursive: true });
    const old = await createSelfSigned("localhost");
    writeFileSync(join(dataDir, "tls", "selfsigned.crt"), old.cert);
    writeFileSync(join(dataDir, "tls", "selfsigned.key"), old.key);
    const pem = await loadOrCreateCertificate({ hostname: "mail.example.org", dataDir, listenHosts: ["0.0.0.0"] });
    const cert = new X509Certificate(pem.cert);
    expect(cert.checkHost("mail.example.org")).toBe("mail.example.org");
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    // Kept as long as it still covers them.
    const again = await loadOrCreateCertificate({ hostname: "mail.example.org", dataDir, listenHosts: ["127.0.0.1"] });
    expect(again.cert).toBe(pem.cert);
  });
});

/** Starts a package-manager command that runs `postern serve`, waits for its listener, and ends it with SIGTERM to that command only. */
async function startAndKill(command: string[]): Promise<{ stderr: string; stopped: boolean; code: number }> {
  const [port] = await freePortPair();
  const { file } = configIn(`pm-${port}`, { listeners: { ...OFF, submission: { host: "127.0.0.1", port } } });
  const proc = Bun.spawn(command, {
    cwd: ROOT,
    env: { ...process.env, POSTERN_CONFIG: file, POSTERN_LOG_LEVEL: "info" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let stderr = "";
  void (async () => {
    for await (const chunk of proc.stderr) stderr += new TextDecoder().decode(chunk);
  })();
  void new Response(proc.stdout).text();
  for (let i = 0; i < 300 && !stderr.includes("msg=listening"); i++) await Bun.sleep(100);
  expect(stderr).toContain("msg=listening");
  // Every process under the command, to see that none outlives it.
  const tree: number[] = [];
  const walk = (pid: number) => childrenOf(pid).forEach((c) => (tree.push(c), walk(c)));
  walk(proc.pid);
  proc.kill("SIGTERM");
  const code = await proc.exited;
  let stopped = false;
  for (let i = 0; i < 100 && !stopped; i++) {
    stopped = tree.every((pid) => !isRunning(pid));
    if (!stopped) await Bun.sleep(100);
  }
  for (const pid of tree) if (isRunning(pid)) process.kill(pid, "SIGKILL"); // never leave one behind
  return { stderr, stopped, code };
}

describe("package scripts", () => {
  test("`npx deno task start` serves, and SIGTERM to it stops the server", async () => {
    const deno = join(ROOT, "node_modules", ".bin", "deno");
    if (!existsSync(deno)) return console.warn("skipped: deno is not installed in node_modules");
    const result = await startAndKill([deno, "task", "start"]);
    expect(result.stderr).not.toContain("SyntaxError");
    expect(result.stopped).toBe(true);
    expect(result.stderr).toContain('msg="postern stopped"');
  }, 60_000);

  test("`npm start` serves, and SIGTERM to npm stops the server", async () => {
    if (!Bun.which("npm")) return console.warn("skipped: npm is not installed");
    const result = await startAndKill(["npm", "start"]);
    expect(result.stopped).toBe(true);
    expect(result.stderr).toContain('msg="postern stopped"');
  }, 60_000);
});

describe("embedding", () => {
  test("createPostern opens only the listeners its config names", async () => {
    const postern = await createPostern({
      config: {
        hostname: "embed.test",
        dataDir: join(tmp.path, "embed"),
        listeners: { smtp: { host: "127.0.0.1", port: 0 } },
      },
    });
    try {
      expect(Object.keys(postern.addresses)).toEqual(["smtp"]);
      expect(postern.config.listeners.imap).toBe(false);
      expect(postern.config.listeners.http).toBe(false);
    } finally {
      await postern.stop();
    }
  });
});
