/**
 * The benchmark table: runs every benchmark in its own process, collects the BENCH line each
 * prints with BENCH_JSON=1 (see bench/report.ts), and prints one Markdown table with the machine
 * it ran on, ready for docs/benchmarks.md.
 *
 *   bun run bench [--quick] [--runtime bun|deno|binary] [--only smtp-ingest,api]
 *
 * `--quick` runs smaller sizes (a few minutes instead of about half an hour). The compiled binary
 * is built first (`bun run build`) when dist/postern is missing, as the cold-start and idle-memory
 * rows measure it.
 */
import { existsSync, readFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ROOT } from "../test/helpers/runtime.ts";
import { BENCH_PREFIX, type BenchResult } from "./report.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    runtime: { type: "string", default: "bun" },
    only: { type: "string" },
  },
});
const runtime = ["--runtime", values.runtime!];

/** Each benchmark with the arguments of the full and the quick run. */
const BENCHES: { name: string; full: string[]; quick: string[] }[] = [
  { name: "startup", full: ["9"], quick: ["3"] },
  {
    name: "idle-connections",
    full: ["--connections", "2000", "--login", "100"],
    quick: ["--connections", "2000", "--login", "50"],
  },
  { name: "smtp-ingest", full: runtime, quick: ["--connections", "50", "--messages", "20", ...runtime] },
  {
    name: "smtp-postfix",
    full: ["--messages", "5000", "--rounds", "3", ...runtime],
    quick: ["--messages", "500", "--rounds", "1", ...runtime],
  },
  { name: "imap-fetch", full: runtime, quick: ["--messages", "2000", "--idle", "200", ...runtime] },
  { name: "imap-login", full: runtime, quick: ["--iterations", "10", ...runtime] },
  { name: "imap-dovecot", full: runtime, quick: ["--messages", "2000", "--sessions", "200", ...runtime] },
  { name: "api", full: runtime, quick: ["--messages", "20000", "--requests", "100", ...runtime] },
];

async function run(command: string[], env: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(command, { cwd: ROOT, env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit" });
  let out = "";
  const decoder = new TextDecoder();
  for await (const chunk of proc.stdout) {
    const text = decoder.decode(chunk, { stream: true });
    out += text;
    // The benchmark's own report, as it goes, minus the machine-readable line.
    process.stderr.write(text.split("\n").filter((l) => !l.startsWith(BENCH_PREFIX)).join("\n"));
  }
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${command.join(" ")} exited with ${code}`);
  return out;
}

function machine(): string {
  const cpu = cpus();
  const os = existsSync("/etc/os-release")
    ? /PRETTY_NAME="([^"]+)"/.exec(readFileSync("/etc/os-release", "utf8"))?.[1]
    : process.platform;
  const kernel = existsSync("/proc/version") ? readFileSync("/proc/version", "utf8").split(" ")[2] : "";
  return `${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${
    (totalmem() / 2 ** 30).toFixed(0)
  } GiB, ${os} (Linux ${kernel}), Bun ${Bun.version}`;
}

const format = (value: number) => (value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2));

if (!existsSync(join(ROOT, "dist/postern"))) {
  console.error("building dist/postern first (bun run build)");
  await run(["bun", "scripts/build.ts"]);
}

const only = values.only?.split(",");
const results: BenchResult[] = [];
for (const bench of BENCHES) {
  if (only && !only.includes(bench.name)) continue;
  console.error(`\n── ${bench.name} ──`);
  const out = await run(["bun", `bench/${bench.name}.ts`, ...(values.quick ? bench.quick : bench.full)], {
    BENCH_JSON: "1",
  });
  const line = out.split("\n").find((l) => l.startsWith(BENCH_PREFIX));
  if (!line) throw new Error(`bench/${bench.name}.ts printed no ${BENCH_PREFIX.trim()} line`);
  results.push(JSON.parse(line.slice(BENCH_PREFIX.length)) as BenchResult);
}

console.log(`\nMachine: ${machine()}  `);
console.log(
  `Date: ${new Date().toISOString().slice(0, 10)}; \`bun run bench${values.quick ? " --quick" : ""}\`${
    values.runtime !== "bun" ? ` --runtime ${values.runtime}` : ""
  }\n`,
);
console.log("| Benchmark | Figure | Compared with |");
console.log("|---|---:|---|");
for (const result of results) {
  for (const row of result.rows) {
    console.log(`| ${row.name} | ${format(row.value)} ${row.unit} | ${row.compare ?? ""} |`);
  }
}
