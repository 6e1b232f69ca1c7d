/**
 * One `postern serve` process started from a config file the test wrote, with any extra
 * arguments (`--workers N`): for tests where several processes share a data directory, or one
 * process starts workers of its own. Unlike `server.ts` it owns neither the config nor the data,
 * keeps reading the log for the test to wait on, and can tell its child processes and which process
 * holds a connection (Linux /proc).
 */
import { readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { posternCommand, ROOT, type Runtime, runtime } from "./runtime.ts";

/** Writes `config` as JSON to `file`; returns the path. */
export function writeConfig(file: string, config: Record<string, unknown>): string {
  writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

export interface ServeStart {
  /** Listener names to wait for; each must have logged `listening` `processes` times. */
  waitFor: string[];
  /** Processes expected to log each listener (a primary and its workers): 1 unless told. */
  processes?: number;
  runtime?: Runtime;
  env?: Record<string, string>;
  timeoutMs?: number;
}

/** The state letter of a process (R, S, Z…), or null when there is no such process. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] ?? null;
  } catch {
    return null;
  }
}

/** Whether `pid` is a process that has not ended (a zombie has). */
export function isRunning(pid: number): boolean {
  const state = processState(pid);
  return state !== null && state !== "Z" && state !== "X";
}

/** The pids whose parent is `pid`. */
export function childrenOf(pid: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) children.push(Number(entry));
    } catch {
      // Gone between the listing and the read.
    }
  }
  return children;
}

/**
 * Which of `pids` holds the server side of each established IPv4 TCP connection to `serverPort`
 * (Linux: /proc/net/tcp gives each socket's inode, /proc/<pid>/fd the process holding it), keyed
 * by the client's port. Connections none of `pids` holds are left out.
 */
export function connectionOwners(serverPort: number, pids: readonly number[]): Map<number, number> {
  const byInode = new Map<string, number>();
  for (const line of readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st … inode (10th field); state 01 is ESTABLISHED.
    if (f.length < 10 || f[3] !== "01" || parseInt(f[1]!.split(":")[1]!, 16) !== serverPort) continue;
    byInode.set(f[9]!, parseInt(f[2]!.split(":")[1]!, 16));
  }
  const owners = new Map<number, number>();
  for (const pid of pids) {
    let fds: string[] = [];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target = "";
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const clientPort = byInode.get(/^socket:\[(\d+)\]$/.exec(target)?.[1] ?? "");
      if (clientPort !== undefined) owners.set(clientPort, pid);
    }
  }
  return owners;
}

export class ServeProcess {
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  /** listener name → port, from the first `listening` line for it. */
  readonly ports: Record<string, number> = {};
  #log = "";
  #reading: Promise<void>;

  private constructor(proc: Subprocess<"ignore", "pipe", "pipe">) {
    this.proc = proc;
    const decoder = new TextDecoder();
    this.#reading = (async () => {
      // Only the lines that arrived since the last chunk are scanned: a busy server logs megabytes.
      let scanned = 0;
      for await (const chunk of proc.stderr) {
        this.#log += decoder.decode(chunk, { stream: true });
        const end = this.#log.lastIndexOf("\n") + 1;
        for (const m of this.#log.slice(scanned, end).matchAll(/listening listener=(\w+) address=[^\s]*:(\d+)/g)) {
          this.ports[m[1]!] ??= Number(m[2]);
        }
        scanned = Math.max(scanned, end);
      }
    })().catch(() => {});
    // Keep draining stdout so the child never blocks on a full pipe.
    void new Response(proc.stdout).text().catch(() => {});
  }

  /** Starts `postern serve --config <configFile> <args>` and waits until its listeners are up. */
  static async start(configFile: string, args: string[], options: ServeStart): Promise<ServeProcess> {
    const proc = Bun.spawn(posternCommand(["serve", "--config", configFile, ...args], options.runtime ?? runtime()), {
      cwd: ROOT,
      env: { ...process.env, ...options.env },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const serve = new ServeProcess(proc);
    const processes = options.processes ?? 1;
    try {
      for (const name of options.waitFor) {
        await serve.waitFor(new RegExp(`listening listener=${name} `, "g"), {
          count: processes,
          timeoutMs: options.timeoutMs ?? 30_000,
        });
      }
    } catch (e) {
      await serve.stop("SIGKILL");
      throw e;
    }
    return serve;
  }

  get pid(): number {
    return this.proc.pid;
  }

  get exitCode(): number | null {
    return this.proc.exitCode;
  }

  /** Everything logged so far (the primary's and its workers' lines). */
  log(): string {
    return this.#log;
  }

  /**
   * Waits until the log, from character `from` on, holds `count` matches of `pattern` (global);
   * returns them. Throws after `timeoutMs`, or when the process ends first.
   */
  async waitFor(
    pattern: RegExp,
    options: { from?: number; count?: number; timeoutMs?: number } = {},
  ): Promise<RegExpExecArray[]> {
    const global = pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`);
    const deadline = Date.now() + (options.timeoutMs ?? 10_000);
    for (;;) {
      const matches = [...this.#log.slice(options.from ?? 0).matchAll(global)];
      if (matches.length >= (options.count ?? 1)) return matches;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        await this.#reading;
        const last = [...this.#log.slice(options.from ?? 0).matchAll(global)];
        if (last.length >= (options.count ?? 1)) return last;
        throw new Error(`postern exited before logging ${pattern}:\n${this.#log}`);
      }
      if (Date.now() > deadline) throw new Error(`postern did not log ${pattern} in time:\n${this.#log}`);
      await Bun.sleep(20);
    }
  }

  /** The worker processes this one started (its children). */
  children(): number[] {
    return childrenOf(this.pid);
  }

  /**
   * Sends `signal` and waits for the exit code; after `timeoutMs` kills it and the children it
   * had (SIGKILL) and throws.
   */
  async stop(signal: NodeJS.Signals = "SIGTERM", timeoutMs = 15_000): Promise<number> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return this.proc.exitCode ?? -1;
    const children = this.children();
    this.proc.kill(signal);
    const code = await Promise.race([this.proc.exited, Bun.sleep(timeoutMs).then(() => null)]);
    if (code === null) {
      for (const pid of [this.pid, ...children]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await this.proc.exited;
      throw new Error(`postern did not stop within ${timeoutMs} ms of ${signal}:\n${this.#log}`);
    }
    await this.#reading;
    return code;
  }
}
