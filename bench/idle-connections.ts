/**
 * Memory of an idle server: resident set size (VmRSS) of `postern serve` on a fresh data
 * directory once it is listening, then with C plain-TCP IMAP connections open that have read the
 * greeting and sit, then with L of those logged in (nothing selected).
 *
 *   bun bench/idle-connections.ts [--connections 2000] [--login 100] [--runtime binary|bun|deno]
 *
 * Needs about C + 100 file descriptors in this process and in the server (`ulimit -n`).
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { LineClient } from "../test/helpers/line-client.ts";
import type { Runtime } from "../test/helpers/runtime.ts";
import { startServer } from "../test/helpers/server.ts";
import { type BenchRow, emit } from "./report.ts";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "2000" },
    login: { type: "string", default: "100" },
    runtime: { type: "string", default: "binary" },
  },
});
const C = Number(values.connections);
const L = Math.min(C, Number(values.login));
const runtime = values.runtime as Runtime;
const label = runtime === "binary" ? "dist/postern" : `${runtime} src/main.ts`;
const USER = "idle@example.test";
const PASSWORD = "idle-password-1";
const LISTENERS = ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "http"];

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
const openFiles = (pid: number | "self") =>
  Number(/Max open files\s+(\d+)/.exec(readFileSync(`/proc/${pid}/limits`, "utf8"))?.[1] ?? Infinity);

/** RSS after the process has had `ms` to settle (timers, GC after start-up or a burst). */
async function settledRss(pid: number, ms = 2000): Promise<number> {
  await Bun.sleep(ms);
  return rssMiB(pid);
}

if (openFiles("self") < C + 100) {
  throw new Error(`open file limit ${openFiles("self")} is below ${C + 100}: raise it with \`ulimit -n ${C + 1000}\``);
}

const server = await startServer({
  runtime,
  waitFor: LISTENERS,
  config: { limits: { connectionsPerIp: C + 50 }, auth: { allowPlaintext: true } },
});
const clients: LineClient[] = [];
try {
  console.log(`idle memory: ${label} serve, ${C} IMAP connections, ${L} logged in`);
  const idle = await settledRss(server.proc.pid);
  console.log(
    `listening (all ${LISTENERS.length} listeners, fresh data dir, started in ${server.startupMs.toFixed(0)} ms): RSS ${
      idle.toFixed(1)
    } MiB`,
  );

  let t = performance.now();
  for (let i = 0; i < C; i += 100) {
    clients.push(
      ...(await Promise.all(Array.from({ length: Math.min(100, C - i) }, async () => {
        const client = await LineClient.connect(server.ports.imap!);
        const greeting = await client.readLine();
        if (!greeting?.startsWith("* OK")) throw new Error(`unexpected greeting: ${greeting}`);
        return client;
      }))),
    );
  }
  const open = await settledRss(server.proc.pid);
  const perConnection = ((open - idle) * 1024) / C;
  console.log(
    `${C} connections open (in ${((performance.now() - t) / 1000).toFixed(1)} s): RSS ${open.toFixed(1)} MiB, ${
      perConnection.toFixed(1)
    } KiB per connection`,
  );

  const rows: BenchRow[] = [
    { name: `RSS, idle ${label} serve (fresh data dir, all listeners)`, value: idle, unit: "MiB" },
    {
      name: `RSS with ${C} idle IMAP connections (greeting read, not logged in)`,
      value: open,
      unit: "MiB",
      compare: `+${(open - idle).toFixed(1)} MiB over idle`,
    },
    { name: "per idle IMAP connection", value: perConnection, unit: "KiB/conn" },
  ];

  if (L > 0) {
    for (const args of [["domain", "add", "example.test"], ["user", "add", USER, "--password", PASSWORD]]) {
      const result = await server.cli(args);
      if (result.code !== 0) throw new Error(`postern ${args.join(" ")}: ${result.stderr}`);
    }
    t = performance.now();
    // A few at a time: each LOGIN is a deliberate scrypt check.
    for (let i = 0; i < L; i += 10) {
      await Promise.all(
        clients.slice(i, Math.min(L, i + 10)).map(async (client) => {
          await client.line(`a LOGIN ${USER} ${PASSWORD}`);
          const reply = await client.readUntil((line) => line.startsWith("a "), 60_000);
          if (!reply.at(-1)!.startsWith("a OK")) throw new Error(`LOGIN failed: ${reply.join(" | ")}`);
        }),
      );
    }
    const loggedIn = await settledRss(server.proc.pid);
    const perSession = ((loggedIn - open) * 1024) / L;
    console.log(
      `${L} of them logged in (in ${((performance.now() - t) / 1000).toFixed(1)} s): RSS ${loggedIn.toFixed(1)} MiB, ${
        perSession.toFixed(1)
      } KiB more per logged-in session`,
    );
    rows.push({
      name: `per IMAP session logged in (${L} of them, nothing selected)`,
      value: perSession,
      unit: "KiB/conn",
      compare: `RSS ${open.toFixed(1)} → ${loggedIn.toFixed(1)} MiB`,
    });
  }
  emit("idle-connections", rows);
} finally {
  for (const client of clients) client.close();
  await server.stop();
}
