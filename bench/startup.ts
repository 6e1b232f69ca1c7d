/**
 * Start-up time: from spawning `postern serve` (on an empty data directory) to the first
 * accepted SMTP connection, for the source tree on Bun, on Deno, and the compiled binary.
 *
 *   bun run build && bun bench/startup.ts [runs]
 *
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts).
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { posternCommand, ROOT, type Runtime } from "../test/helpers/runtime.ts";
import { type BenchRow, emit, ratio } from "./report.ts";

const runs = Number(process.argv[2] ?? 5);
const PORT = 34_125;

async function once(runtime: Runtime): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), "postern-startup-"));
  const config = join(dir, "postern.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, "data"),
      listeners: { smtp: { host: "127.0.0.1", port: PORT }, submission: false, submissions: false, http: false },
    }),
  );
  const started = performance.now();
  const proc = Bun.spawn(posternCommand(["serve", "--config", config], runtime), {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "ignore",
  });
  try {
    for (;;) {
      const ok = await new Promise<boolean>((resolve) => {
        const socket = connect(PORT, "127.0.0.1");
        socket.once("data", () => (socket.destroy(), resolve(true)));
        socket.once("error", () => resolve(false));
      });
      if (ok) return performance.now() - started;
      if (performance.now() - started > 30_000) throw new Error(`${runtime}: no connection within 30 s`);
      await Bun.sleep(2);
    }
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, number> = {};
for (const runtime of ["bun", "deno", "binary"] as Runtime[]) {
  if (runtime === "binary" && !existsSync(join(ROOT, "dist/postern"))) {
    console.log("binary: skipped (run `bun run build` first)");
    continue;
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push(await once(runtime));
  results[runtime] = median(times);
  console.log(
    `${runtime.padEnd(7)} median ${median(times).toFixed(0)} ms to first accepted connection (runs: ${
      times.map((t) => t.toFixed(0)).join(", ")
    })`,
  );
}
if (results.bun && results.binary) console.log(`binary / bun src: ${(results.binary / results.bun).toFixed(2)}`);

const rows: BenchRow[] = [];
const bunNote = results.bun
  ? `${ratio(results.binary!, results.bun)} × bun src (${results.bun.toFixed(0)} ms)`
  : undefined;
if (results.binary) {
  rows.push({
    name: `cold start to first SMTP connection, dist/postern (median of ${runs})`,
    value: results.binary,
    unit: "ms",
    compare: bunNote,
  });
}
if (results.bun) rows.push({ name: "cold start, bun src/main.ts serve", value: results.bun, unit: "ms" });
if (results.deno) rows.push({ name: "cold start, deno run -A src/main.ts serve", value: results.deno, unit: "ms" });
emit("startup", rows);
