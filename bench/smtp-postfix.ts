/**
 * SMTP ingest side by side with Postfix: the same smtp-source load (a connection per message by
 * default) against a private Postfix instance, `postern serve` and smtp-sink, alternated round by
 * round, all on this machine. Postern answers 250 after its commit and checks SPF, DKIM and DMARC
 * against a local DNS server; Postfix answers 250 after fsyncing its queue file and delivers to a
 * Maildir afterwards, so it is timed twice: accepted, and all delivered. Also prints statements
 * per stored message (from Postern's "store statistics" log line at stop), peak RSS, and checks
 * that every message was stored exactly once. Needs Debian's `postfix` package and root.
 *
 *   bun bench/smtp-postfix.ts [--messages 5000] [--sessions 50] [--size 4096] [--rounds 3] [--warmup 1000]
 *                             [--reuse] [--workers N] [--runtime bun|deno|binary]
 *
 * Each of the three first takes `--warmup` messages that are not timed (Postern's compiler and Postfix's
 * processes and caches warm up), then the rounds. Besides the rates it prints the CPU time per message of Postern
 * and of Postfix (all their processes and threads, Postfix's until every message is delivered): a figure that
 * other load on the machine changes less than the rates.
 *
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts); with
 * BENCH_PROFILE=<dir> each Bun process of Postern writes a CPU profile there when it stops (.cpuprofile and Markdown).
 */
import { createClient } from "@libsql/client";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DnsServer } from "../test/helpers/dns-server.ts";
import { posternCommand, ROOT, runPostern, type Runtime } from "../test/helpers/runtime.ts";
import {
  cpuMs,
  freePort,
  postfixMissing,
  processTree,
  pssMiB,
  runSource,
  sampleMax,
  sourceCommand,
  type SourceOptions,
  startPostfix,
  startSmtpSink,
  statusMiB,
  stopPostfixSync,
  waitFor,
} from "./postfix.ts";
import { onlyListener } from "./listening.ts";
import { emit, ratio } from "./report.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "5000" },
    sessions: { type: "string", default: "50" },
    size: { type: "string", default: "4096" },
    rounds: { type: "string", default: "3" },
    warmup: { type: "string", default: "1000" },
    reuse: { type: "boolean", default: false },
    workers: { type: "string" },
    runtime: { type: "string", default: "bun" },
  },
});
const M = Number(values.messages);
const SESSIONS = Number(values.sessions);
const ROUNDS = Number(values.rounds);
const WARMUP = Number(values.warmup);
const runtime = values.runtime as Runtime;
const FROM = "sender@origin.test";
const TO = "user@example.test";
const load = (port: number, messages = M): SourceOptions => ({
  port,
  sessions: SESSIONS,
  messages,
  size: Number(values.size),
  from: FROM,
  to: TO,
  reuse: values.reuse,
});

const missing = postfixMissing();
if (missing) {
  console.error(`skipped: ${missing}`);
  emit("smtp-postfix", []);
  process.exit(0);
}

/** A running `postern serve` whose log is read as it goes: the port, the last lines, the statistics. */
interface Server {
  pid: number;
  port: Promise<number>;
  stats: Array<Record<string, number>>;
  tail: string[];
  exited(): boolean;
  stop(): Promise<void>;
}

function startServer(config: string, workers: string | undefined): Server {
  const args = ["serve", "--config", config, ...(workers ? ["--workers", workers] : [])];
  const command = posternCommand(args, runtime);
  // BENCH_PROFILE=<dir>: a CPU profile of each Bun process, written when it stops (Markdown, for reading).
  const profile = process.env.BENCH_PROFILE;
  if (profile && runtime === "bun") command.splice(1, 0, "--cpu-prof", "--cpu-prof-md", `--cpu-prof-dir=${profile}`);
  const proc = Bun.spawn(command, { cwd: ROOT, stdout: "ignore", stderr: "pipe" });
  const stats: Array<Record<string, number>> = [];
  const tail: string[] = [];
  let found: (port: number) => void = () => {};
  let failed: (e: Error) => void = () => {};
  const port = new Promise<number>((resolve, reject) => ((found = resolve), (failed = reject)));
  const reading = (async () => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of proc.stderr) {
      const lines = (partial + decoder.decode(chunk, { stream: true })).split("\n");
      partial = lines.pop()!;
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        const listening = /listening listener=smtp address=\S*:(\d+)/.exec(line);
        if (listening) found(Number(listening[1]));
        // src/util/log.ts: logfmt, `time=… level=info msg="store statistics" statements=… commits=…`
        if (/\bmsg="?store statistics\b/.test(line)) {
          stats.push(Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])])));
        }
      }
    }
    failed(new Error(`postern serve ended before its SMTP listener was up:\n${tail.join("\n")}`));
  })();
  let stopping: Promise<unknown> | undefined;
  return {
    pid: proc.pid,
    port,
    stats,
    tail,
    exited: () => proc.exitCode !== null || proc.signalCode !== null,
    async stop() {
      proc.kill("SIGTERM");
      await (stopping ??= Promise.all([proc.exited, reading]));
    },
  };
}

/** Statements and commits over every "store statistics" line (one per process with --workers). */
function total(stats: Array<Record<string, number>>): { statements: number; commits: number } {
  return {
    statements: stats.reduce((n, s) => n + (s.statements ?? 0), 0),
    commits: stats.reduce((n, s) => n + (s.commits ?? 0), 0),
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const treeMiB = (pid: number, field: "VmRSS" | "VmHWM") =>
  processTree(pid).reduce((n, p) => n + statusMiB(p, field), 0);

// Sender checks (SPF, DKIM, DMARC) ask a local DNS server, so the figures do not depend on the network.
// Its answers have TTLs, and its negative answers an SOA, as real zones do (Postern keeps them).
const dns = await DnsServer.start({ ttl: 300, negativeTtl: 300 });
dns.add("origin.test", { type: "TXT", text: "v=spf1 ip4:127.0.0.1 -all" });
dns.add("_dmarc.origin.test", { type: "TXT", text: "v=DMARC1; p=none" });
const dir = mkdtempSync(join(tmpdir(), "postern-vs-postfix-"));
// Its own directory: startPostfix opens it to the mail owner, which cannot enter a 0700 parent.
const postfixDir = mkdtempSync(join(tmpdir(), "postfix-bench-"));
process.on("SIGINT", () => {
  stopPostfixSync(postfixDir);
  process.exit(130);
});
const config = join(dir, "postern.json");
writeFileSync(
  config,
  JSON.stringify({
    hostname: "mx.bench.test",
    dataDir: join(dir, "data"),
    limits: { connectionsPerIp: SESSIONS + 10 },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    listeners: onlyListener("smtp"),
  }),
);

const cleanups: Array<() => Promise<void>> = [];
try {
  console.log(
    `SMTP ingest against Postfix: ${sourceCommand(load(0)).join(" ").replace(":0", ":PORT")}, ${ROUNDS} rounds ` +
      `alternated (Postfix, Postern, smtp-sink); Postern on ${runtime}${
        values.workers ? `, --workers ${values.workers}` : ""
      }`,
  );
  for (const args of [["domain", "add", "example.test"], ["user", "add", TO, "--password", "bench-password"]]) {
    const r = await runPostern([...args, "--config", config], { runtime });
    if (r.code !== 0) throw new Error(`postern ${args.join(" ")} failed: ${r.stderr}`);
  }

  // The statements a start and a stop cost with no mail, to subtract from the run's count.
  let workers = values.workers;
  let server = startServer(config, workers);
  try {
    await server.port;
  } catch (e) {
    if (!workers) throw e;
    console.log(
      `postern serve refused --workers ${workers}; running without it:\n  ${server.tail.slice(-3).join("\n  ")}`,
    );
    workers = undefined;
    server = startServer(config, workers);
    await server.port;
  }
  await Bun.sleep(1000);
  await server.stop();
  const atRest = total(server.stats);

  const postfix = await startPostfix({
    dir: postfixDir,
    port: await freePort(),
    recipient: TO,
    sessions: SESSIONS,
  });
  cleanups.push(() => postfix.stop());
  const sinkPort = await freePort();
  const sink = await startSmtpSink(sinkPort);
  cleanups.push(() => sink.stop());
  server = startServer(config, workers);
  const running = server;
  cleanups.push(() => running.stop());
  const posternPort = await server.port;
  const db = createClient({ url: `file:${join(dir, "data", "postern.db")}` });
  cleanups.push(async () => db.close());
  // Emails, their distinct Message-IDs, and mailbox entries (the INBOX copy of each).
  const stored = async () => {
    const row = (await db.execute(
      "SELECT (SELECT count(*) FROM emails) AS n, (SELECT count(DISTINCT message_id) FROM emails) AS ids, " +
        "(SELECT count(*) FROM messages) AS entries",
    )).rows[0]!;
    return { n: Number(row.n), ids: Number(row.ids), entries: Number(row.entries) };
  };

  const rates = { accepted: [] as number[], delivered: [] as number[], postern: [] as number[], sink: [] as number[] };
  const rssAfter: number[] = [];
  const problems: string[] = [];
  let postfixPeak = 0;
  let posternPssPeak = 0;
  const check = (who: string, r: { errors: string; code: number }) => {
    if (r.code !== 0 || r.errors) problems.push(`${who}: smtp-source exited ${r.code}: ${r.errors.slice(0, 300)}`);
  };
  if (WARMUP > 0) {
    for (const port of [postfix.port, posternPort, sinkPort]) check("warm-up", await runSource(load(port, WARMUP)));
    await waitFor(() => postfix.delivered() >= WARMUP, Math.max(60_000, WARMUP * 20), () => postfix.logTail());
  }
  const cpu = { postern: [] as number[], postfix: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    const expected = WARMUP + round * M;

    const pfCpu = cpuMs(postfix.pids());
    const pfMemory = sampleMax(() => postfix.pids().reduce((n, p) => n + pssMiB(p), 0), 250);
    const started = performance.now();
    const pf = await runSource(load(postfix.port));
    check("postfix", pf);
    await waitFor(() => postfix.delivered() >= expected, Math.max(60_000, M * 20), () => postfix.logTail());
    const deliveredAfter = (performance.now() - started) / 1000;
    cpu.postfix.push((cpuMs(postfix.pids()) - pfCpu) / M);
    postfixPeak = Math.max(postfixPeak, pfMemory.stop());
    rates.accepted.push(M / pf.seconds);
    rates.delivered.push(M / deliveredAfter);

    const pMemory = sampleMax(() => processTree(running.pid).reduce((n, p) => n + pssMiB(p), 0), 250);
    const pCpu = cpuMs(processTree(running.pid));
    const p = await runSource(load(posternPort));
    cpu.postern.push((cpuMs(processTree(running.pid)) - pCpu) / M);
    posternPssPeak = Math.max(posternPssPeak, pMemory.stop());
    if (running.exited()) throw new Error(`postern serve ended during round ${round}:\n${running.tail.join("\n")}`);
    check("postern", p);
    const count = await stored();
    if (count.n !== expected) {
      problems.push(`postern: ${count.n} messages stored after round ${round}, not ${expected}`);
    }
    rates.postern.push(M / p.seconds);
    rssAfter.push(treeMiB(running.pid, "VmRSS"));

    const s = await runSource(load(sinkPort));
    check("smtp-sink", s);
    rates.sink.push(M / s.seconds);

    console.log(
      `round ${round}: postfix ${rates.accepted.at(-1)!.toFixed(0)} msg/s accepted, all delivered after ` +
        `${deliveredAfter.toFixed(1)} s (${rates.delivered.at(-1)!.toFixed(0)} msg/s) | postern ` +
        `${rates.postern.at(-1)!.toFixed(0)} msg/s, RSS ${rssAfter.at(-1)!.toFixed(0)} MiB | smtp-sink ` +
        `${rates.sink.at(-1)!.toFixed(0)} msg/s`,
    );
  }

  // VmHWM, or a higher RSS reading taken earlier (the kernel keeps both counters approximately).
  const peakRss = Math.max(treeMiB(running.pid, "VmHWM"), ...rssAfter);
  await running.stop();
  const run = total(running.stats);
  const statements = run.statements - atRest.statements;
  const commits = run.commits - atRest.commits;
  const { n, ids, entries } = await stored();
  if (!running.stats.length) problems.push("postern logged no store statistics at stop");

  // Postfix: one Maildir file per message, each Message-ID once.
  const files = readdirSync(postfix.maildir);
  const messageIds = new Set(
    files.map((f) => /^Message-Id:\s*(\S+)/im.exec(readFileSync(join(postfix.maildir, f), "latin1"))?.[1]),
  );
  const all = WARMUP + ROUNDS * M;
  if (n !== all || ids !== all || entries !== all) {
    problems.push(`postern stored ${n} messages (${ids} distinct Message-IDs, ${entries} mailbox entries)`);
  }
  if (files.length !== all || messageIds.size !== all) {
    problems.push(`postfix delivered ${files.length} messages with ${messageIds.size} distinct Message-IDs`);
  }

  const med = {
    accepted: median(rates.accepted),
    delivered: median(rates.delivered),
    postern: median(rates.postern),
    sink: median(rates.sink),
  };
  const row = (name: string, xs: number[]) =>
    `${name.padEnd(26)} ${xs.map((x) => x.toFixed(0).padStart(7)).join("")}   median ${median(xs).toFixed(0)}`;
  console.log(`\nmsg/s by round`);
  console.log(row("postfix, accepted", rates.accepted));
  console.log(row("postfix, all delivered", rates.delivered));
  console.log(row("postern (stored, durable)", rates.postern));
  console.log(row("smtp-sink (stores nothing)", rates.sink));
  const perRound = (a: number[], b: number[]) => a.map((x, i) => ratio(x, b[i]!)).join(", ");
  console.log(
    `postern / postfix accepted: ${ratio(med.postern, med.accepted)} (by round ${
      perRound(rates.postern, rates.accepted)
    })`,
  );
  console.log(
    `postern / postfix delivered: ${ratio(med.postern, med.delivered)} (by round ${
      perRound(rates.postern, rates.delivered)
    })`,
  );
  console.log(`postern / smtp-sink: ${ratio(med.postern, med.sink)} (by round ${perRound(rates.postern, rates.sink)})`);
  const ms = (xs: number[]) => xs.map((x) => x.toFixed(2)).join(", ");
  console.log(
    `CPU ms per message: postern ${median(cpu.postern).toFixed(2)} (by round ${ms(cpu.postern)}), postfix ` +
      `${median(cpu.postfix).toFixed(2)} until delivered (by round ${ms(cpu.postfix)}); postfix / postern ${
        ratio(median(cpu.postfix), median(cpu.postern))
      }`,
  );
  console.log(
    `statements per stored message: ${(statements / n).toFixed(2)} (${statements} statements, ${commits} commits, ` +
      `${
        (n / commits).toFixed(1)
      } messages per commit; a start and stop with no mail: ${atRest.statements} statements)`,
  );
  console.log(
    `postern peak RSS ${peakRss.toFixed(0)} MiB (VmHWM${workers ? ", summed over its processes" : ""}); ` +
      `RSS after each round ${rssAfter.map((r) => r.toFixed(0)).join(", ")} MiB; peak PSS sampled ` +
      `${posternPssPeak.toFixed(0)} MiB; postfix peak PSS sampled over all its processes ${postfixPeak.toFixed(0)} MiB`,
  );
  console.log(
    `stored exactly once: postern ${n} emails, ${ids} distinct Message-IDs, ${entries} INBOX entries; postfix ${files.length} files, ${messageIds.size} distinct`,
  );
  for (const p of problems) console.log(`PROBLEM ${p}`);
  if (problems.length) console.log(`postern's last log lines:\n${running.tail.join("\n")}`);

  const what = `SMTP ingest vs Postfix (smtp-source -s ${SESSIONS} -m ${M}, ${
    (Number(values.size) / 1024).toFixed(0)
  } KiB, ${values.reuse ? "connections reused" : "a connection per message"}, median of ${ROUNDS})`;
  emit("smtp-postfix", [
    {
      name: `${what}, Postern stored durably`,
      value: med.postern,
      unit: "msg/s",
      compare: `${ratio(med.postern, med.accepted)} × Postfix accepting (${med.accepted.toFixed(0)} msg/s), ` +
        `${ratio(med.postern, med.delivered)} × Postfix delivered (${med.delivered.toFixed(0)} msg/s), ` +
        `${ratio(med.postern, med.sink)} × smtp-sink (${med.sink.toFixed(0)} msg/s)${
          problems.length ? "; PROBLEMS" : ""
        }`,
    },
    {
      name: "SMTP ingest vs Postfix, Postern CPU per stored message",
      value: median(cpu.postern),
      unit: "ms",
      compare: `Postfix ${median(cpu.postfix).toFixed(2)} ms per message until delivered (all its processes)`,
    },
    {
      name: "SMTP ingest vs Postfix, statements per stored message",
      value: statements / n,
      unit: "statements/msg",
      compare: `${(n / commits).toFixed(1)} messages per commit`,
    },
    {
      name: "SMTP ingest vs Postfix, Postern peak RSS",
      value: peakRss,
      unit: "MiB",
      compare: `after each round ${rssAfter.map((r) => r.toFixed(0)).join(", ")} MiB; Postfix peak PSS ${
        postfixPeak.toFixed(0)
      } MiB`,
    },
  ]);
  if (problems.length) process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(`cleanup: ${e}`));
  stopPostfixSync(postfixDir);
  dns.close();
  for (const d of [dir, postfixDir]) rmSync(d, { recursive: true, force: true });
}
