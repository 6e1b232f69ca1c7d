/**
 * Starts `postern serve` as a child process on the runtime chosen by POSTERN_TEST_RUNTIME, with
 * every listener on an ephemeral loopback port, and learns the ports from its log.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { posternCommand, ROOT, runPostern, type Runtime, runtime } from "./runtime.ts";
import { tempDir } from "./tmp.ts";

export interface ServerProcess {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  dir: string;
  configFile: string;
  /** listener name → port */
  ports: Record<string, number>;
  /** Everything the server logged so far. */
  log(): string;
  /** Milliseconds from spawn to the last listener being up. */
  startupMs: number;
  /** Runs a CLI command against the same config. */
  cli(args: string[], stdin?: string): ReturnType<typeof runPostern>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number>;
  /** Stops the server (SIGTERM, or SIGKILL for a crash) and starts it again on the same data; ports change. */
  restart(signal?: NodeJS.Signals): Promise<void>;
}

export interface StartOptions {
  config?: Record<string, unknown>;
  runtime?: Runtime;
  /** Listener names to wait for; defaults to every listener that is not turned off. */
  waitFor?: string[];
  env?: Record<string, string>;
  /** More `serve` arguments, e.g. `["--workers", "1"]`. */
  args?: string[];
}

const ALL = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "managesieve", "http"];

export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const which = options.runtime ?? runtime();
  const tmp = tempDir("postern-e2e-");
  const listeners = Object.fromEntries(ALL.map((name) => [name, { host: "127.0.0.1", port: 0 }]));
  const config = {
    hostname: "mx.postern.test",
    dataDir: join(tmp.path, "data"),
    ...options.config,
    listeners: { ...listeners, ...(options.config?.listeners as object | undefined) },
  };
  const configFile = join(tmp.path, "postern.json");
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const launch = async () => {
    const started = performance.now();
    const proc = Bun.spawn(posternCommand(["serve", "--config", configFile, ...(options.args ?? [])], which), {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    let logText = "";
    const ports: Record<string, number> = {};
    const wanted = options.waitFor ?? ["http"];
    let startupMs = 0;
    const ready = new Promise<void>((resolve, reject) => {
      const decoder = new TextDecoder();
      (async () => {
        // Only the lines that arrived since the last chunk are scanned: a busy server logs megabytes.
        let scanned = 0;
        for await (const chunk of proc.stderr) {
          logText += decoder.decode(chunk, { stream: true });
          const end = logText.lastIndexOf("\n") + 1;
          // logfmt, or JSON with log.format "json"
          const listening =
            /listening listener=(\w+) address=[^\s]*:(\d+)|"msg":"listening","listener":"(\w+)","address":"[^"]*:(\d+)"/g;
          for (const m of logText.slice(scanned, end).matchAll(listening)) {
            ports[(m[1] ?? m[3])!] = Number(m[2] ?? m[4]);
          }
          scanned = Math.max(scanned, end);
          if (wanted.every((w) => ports[w])) {
            startupMs ||= performance.now() - started;
            resolve();
          }
        }
        reject(new Error(`postern exited before it was ready:\n${logText}`));
      })().catch(reject);
    });
    const timeout = setTimeout(() => proc.kill("SIGKILL"), 30_000);
    try {
      await ready;
    } finally {
      clearTimeout(timeout);
    }
    // Keep draining stdout so the child never blocks on a full pipe.
    void new Response(proc.stdout).text();
    return { proc, ports, startupMs, log: () => logText };
  };
  let current = await launch();

  const server: ServerProcess = {
    proc: current.proc,
    dir: tmp.path,
    configFile,
    ports: current.ports,
    startupMs: current.startupMs,
    log: () => current.log(),
    cli: (args, stdin) => runPostern([...args, "--config", configFile], { stdin, runtime: which }),
    async stop(signal = "SIGTERM") {
      current.proc.kill(signal);
      const code = await current.proc.exited;
      tmp.cleanup();
      return code;
    },
    async restart(signal = "SIGTERM") {
      current.proc.kill(signal);
      await current.proc.exited;
      current = await launch();
      server.proc = current.proc;
      server.ports = current.ports;
    },
  };
  return server;
}
