/**
 * SMTP ingest: C parallel connections × M messages of S bytes to local mailboxes, over plain
 * SMTP with PIPELINING, against `postern serve` (stored durably: 250 only after the commit) and,
 * in the same run, against the protocol floor (the same listener and session storing nothing).
 *
 *   bun bench/smtp-ingest.ts [--connections 50] [--messages 200] [--size 4096] [--runtime bun|deno|binary]
 *
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DnsServer } from "../test/helpers/dns-server.ts";
import { posternCommand, ROOT, runPostern, type Runtime } from "../test/helpers/runtime.ts";
import { listeningPort, onlyListener } from "./listening.ts";
import { emit, ratio } from "./report.ts";
import { type LoadResult, percentile, runLoad } from "./smtp-load.ts";

const { values } = parseArgs({
  options: {
    connections: { type: "string", default: "50" },
    messages: { type: "string", default: "200" },
    size: { type: "string", default: "4096" },
    runtime: { type: "string", default: "bun" },
  },
});
const C = Number(values.connections);
const M = Number(values.messages);
const S = Number(values.size);
const runtime = values.runtime as Runtime;
const ACCOUNTS = 10;
const recipients = Array.from({ length: ACCOUNTS }, (_, i) => `user${i}@example.test`);

/** Peak resident set size of a process, from /proc (Linux). */
function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? NaN) / 1024;
}

async function waitForLine(stream: ReadableStream<Uint8Array>, pattern: RegExp): Promise<void> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text += decoder.decode(chunk);
    if (pattern.test(text)) return;
  }
  throw new Error(`process ended before printing ${pattern}:\n${text}`);
}

function report(name: string, result: LoadResult, rss: number) {
  const figures = {
    rate: result.messages / result.seconds,
    p50: percentile(result.latencies, 50),
    p99: percentile(result.latencies, 99),
    rss,
    failures: result.failures,
  };
  console.log(
    `${name.padEnd(26)} ${figures.rate.toFixed(0).padStart(6)} msg/s   p50 ${figures.p50.toFixed(2)} ms   ` +
      `p99 ${figures.p99.toFixed(2)} ms   peak RSS ${rss.toFixed(0)} MiB   failures ${result.failures}`,
  );
  return figures;
}

// Sender checks (SPF, DKIM, DMARC) ask a local DNS server, so the figures do not depend on the network.
// Its answers have TTLs, and its negative answers an SOA, as real zones do (Postern keeps them).
const dns = await DnsServer.start({ ttl: 300, negativeTtl: 300 });
dns.add("load.test", { type: "TXT", text: "v=spf1 ip4:127.0.0.1 -all" });
const dir = mkdtempSync(join(tmpdir(), "postern-bench-"));
const sinkPort = 35_000 + Math.floor(Math.random() * 5000);
const config = join(dir, "postern.json");
writeFileSync(
  config,
  JSON.stringify({
    hostname: "mx.bench.test",
    dataDir: join(dir, "data"),
    limits: { connectionsPerIp: C + 10 },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    listeners: onlyListener("smtp"),
  }),
);
try {
  console.log(
    `SMTP ingest: ${C} connections × ${M} messages × ${S} bytes, PIPELINING, ${ACCOUNTS} local mailboxes, server on ${runtime}`,
  );
  await runPostern(["domain", "add", "example.test", "--config", config]);
  for (const r of recipients) await runPostern(["user", "add", r, "--password", "bench-password", "--config", config]);

  const server = Bun.spawn(posternCommand(["serve", "--config", config], runtime), {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
  });
  const port = await listeningPort(server.stderr, "smtp");
  const stored = await runLoad({ port, connections: C, messagesPerConnection: M, messageSize: S, recipients });
  const postern = report("postern (stored, durable)", stored, peakRssMiB(server.pid));
  server.kill("SIGTERM");
  await server.exited;

  const sink = Bun.spawn([process.execPath, join(ROOT, "bench/smtp-sink.ts"), String(sinkPort)], {
    cwd: ROOT,
    stdout: "pipe",
    stderr: "inherit",
  });
  await waitForLine(sink.stdout, /ready/);
  const floor = report(
    "protocol floor (no store)",
    await runLoad({ port: sinkPort, connections: C, messagesPerConnection: M, messageSize: S, recipients }),
    peakRssMiB(sink.pid),
  );
  sink.kill("SIGTERM");
  await sink.exited;

  console.log(`postern / floor: ${(postern.rate / floor.rate).toFixed(2)}`);

  const what = `SMTP ingest (${C} conn × ${M} msg × ${(S / 1024).toFixed(0)} KiB, ${runtime})`;
  const failures = postern.failures + floor.failures
    ? `; failures: ${postern.failures} stored, ${floor.failures} floor`
    : "";
  emit("smtp-ingest", [
    {
      name: `${what}, stored durably`,
      value: postern.rate,
      unit: "msg/s",
      compare: `${ratio(postern.rate, floor.rate)} × protocol floor (${floor.rate.toFixed(0)} msg/s)${failures}`,
    },
    {
      name: "SMTP ingest, p50 end of DATA → 250",
      value: postern.p50,
      unit: "ms",
      compare: `floor ${floor.p50.toFixed(1)} ms`,
    },
    {
      name: "SMTP ingest, p99 end of DATA → 250",
      value: postern.p99,
      unit: "ms",
      compare: `floor ${floor.p99.toFixed(1)} ms`,
    },
    {
      name: "SMTP ingest, server peak RSS",
      value: postern.rss,
      unit: "MiB",
      compare: `floor ${floor.rss.toFixed(0)} MiB`,
    },
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
  dns.close();
}
