/**
 * `postern serve --workers N`: N processes serving one config and one database. The first
 * process (the primary) binds every listener, so a port configured as 0 gets its real number,
 * then starts N - 1 workers that bind the same ports (SO_REUSEPORT: the kernel spreads incoming
 * connections over the processes). Each process accepts, parses, checks and stores on its own
 * core; the database keeps them consistent (queue leases, maildrop locks, shared counters, the
 * change log that every process watches). The primary restarts a worker that dies and stops the
 * workers when it stops; a worker stops when the primary goes away (its stdin closes).
 */
import { type ChildProcess, spawn } from "node:child_process";
import type { ListenerName } from "../config/schema.ts";
import { log } from "../util/log.ts";

/** The command line that starts this same program again (source on Bun or Deno, or the compiled binary). */
export function selfCommand(args: readonly string[]): string[] {
  const deno = (globalThis as { Deno?: { execPath(): string; mainModule: string } }).Deno;
  if (deno) {
    // A worker collects garbage as its primary can (src/util/gc.ts): keep --expose-gc if the primary had it.
    const gc = typeof (globalThis as { gc?: unknown }).gc === "function" ? ["--v8-flags=--expose-gc"] : [];
    return [deno.execPath(), "run", "-A", ...gc, "--quiet", new URL(deno.mainModule).pathname, ...args];
  }
  const script = process.argv[1];
  // A compiled Bun binary runs its embedded entry point from a virtual /$bunfs path.
  if (!script || script.startsWith("/$bunfs/") || script.startsWith("B:/~BUN/")) return [process.execPath, ...args];
  return [process.execPath, script, ...args];
}

/** `--listen-ports` for a worker: `smtp=2525,imap=2143`. */
export function formatPorts(ports: Partial<Record<ListenerName, { port: number }>>): string {
  return Object.entries(ports).map(([name, address]) => `${name}=${address!.port}`).join(",");
}

export function parsePorts(text: string): Partial<Record<ListenerName, number>> {
  const ports: Partial<Record<ListenerName, number>> = {};
  for (const part of text.split(",").filter(Boolean)) {
    const [name, port] = part.split("=");
    if (!name || !/^\d+$/.test(port ?? "")) throw new Error(`Bad --listen-ports entry: ${part}`);
    ports[name as ListenerName] = Number(port);
  }
  return ports;
}

/** Time before a worker that died is started again; it doubles while workers keep dying young. */
const RESTART_MS = 1000;
const MAX_RESTART_MS = 30_000;

export class Workers {
  #children = new Map<number, ChildProcess>();
  #stopping = false;
  #backoff = RESTART_MS;

  constructor(private readonly command: (index: number) => string[]) {}

  start(count: number): void {
    for (let index = 1; index < count; index++) this.#spawn(index);
  }

  #spawn(index: number): void {
    const [file, ...args] = this.command(index);
    const child = spawn(file!, args, { stdio: ["pipe", "inherit", "inherit"] });
    const started = Date.now();
    this.#children.set(index, child);
    child.on("error", (e) => log.error("worker failed to start", { worker: index, error: e }));
    child.on("exit", (code, signal) => {
      this.#children.delete(index);
      if (this.#stopping) return;
      this.#backoff = Date.now() - started > MAX_RESTART_MS ? RESTART_MS : Math.min(this.#backoff * 2, MAX_RESTART_MS);
      log.error("worker exited; starting it again", { worker: index, code, signal, inMs: this.#backoff });
      setTimeout(() => {
        if (!this.#stopping) this.#spawn(index);
      }, this.#backoff);
    });
  }

  /** Passes a signal on to every worker (SIGHUP: reload certificates). */
  signal(signal: NodeJS.Signals): void {
    for (const child of this.#children.values()) child.kill(signal);
  }

  /** Asks every worker to stop (SIGTERM) and waits for them, at most `graceMs` plus a second. */
  async stop(graceMs: number): Promise<void> {
    this.#stopping = true;
    const exits = [...this.#children.values()].map((child) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
        setTimeout(() => {
          child.kill("SIGKILL");
          resolve();
        }, graceMs + 1000).unref?.();
      })
    );
    await Promise.all(exits);
  }
}

/**
 * In a worker: calls `stop` once the primary is gone (the pipe on standard input closes).
 * Returns the function that stops watching, so the worker can exit.
 */
export function onPrimaryGone(stop: () => void): () => void {
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.on("error", stop);
  process.stdin.resume();
  return () => {
    process.stdin.off("end", stop);
    process.stdin.off("close", stop);
    process.stdin.off("error", stop);
    process.stdin.destroy();
  };
}
