/**
 * IMAP side by side with Dovecot: the same N messages (4–10 KiB, plain and multipart) APPENDed one
 * by one to `postern serve` and to a private Dovecot (bench/dovecot.ts, Maildir), both plain IMAP
 * on loopback, then on one connection each: SELECT INBOX, UID FETCH of summaries and of every
 * body, UID SEARCH BODY, STORE 1:* +FLAGS / +FLAGS.SILENT / -FLAGS; then C clients × I sessions of
 * connect, LOGIN, SELECT, FETCH 1:10 (FLAGS), LOGOUT; then S sessions logged in with INBOX
 * selected, held open at once (time to open, memory per session). The logins and sessions also
 * run against a second Dovecot with `auth_cache_size = 10M` on the same Maildir. Every timing is
 * repeated R times with the servers alternated; the figures are medians. Needs Debian's
 * `dovecot-imapd` package and root.
 *
 *   bun bench/imap-dovecot.ts [--messages 10000] [--sessions 2000] [--clients 10] [--iterations 20]
 *                             [--repeats 3] [--scheme crypt|plain] [--workers N] [--runtime bun|deno|binary]
 *                             [--only select,fetch,search,store,sessions,open]
 *
 * `--only` runs the named parts alone (the one-connection commands by their first word after UID,
 * `sessions` for the short sessions, `open` for the sessions held open); the messages are then
 * APPENDed once, to INBOX, whatever `--repeats` says.
 * `--workers` is passed to `postern serve` (its default: one process per core).
 *
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { posternCommand, ROOT, runPostern, type Runtime } from "../test/helpers/runtime.ts";
import {
  type DovecotInstance,
  dovecotMissing,
  dovecotVersion,
  passwdLine,
  startDovecot,
  stopDovecotSync,
} from "./dovecot.ts";
import { listeningPort } from "./listening.ts";
import { freePort, processTree, pssMiB, statusMiB, waitFor } from "./postfix.ts";
import { emit, ratio } from "./report.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    sessions: { type: "string", default: "2000" },
    clients: { type: "string", default: "10" },
    iterations: { type: "string", default: "20" },
    repeats: { type: "string", default: "3" },
    scheme: { type: "string", default: "crypt" },
    workers: { type: "string" },
    runtime: { type: "string", default: "bun" },
    only: { type: "string" },
  },
});
const ONLY = values.only ? new Set(values.only.toLowerCase().split(",").map((s) => s.trim())) : null;
/** True when `part` is to run (every part without `--only`). */
const wanted = (part: string) => !ONLY || ONLY.has(part);
const N = Number(values.messages);
const SESSIONS = Number(values.sessions);
const CLIENTS = Number(values.clients);
const ITERATIONS = Number(values.iterations);
const R = Number(values.repeats);
const scheme = values.scheme === "plain" ? "plain" : "crypt";
const runtime = values.runtime as Runtime;
const USER = "bench@example.test";
const PASSWORD = "bench-password-1";
const NEEDLES = Array.from({ length: N }, (_, i) => i).filter((i) => i % 1000 === 7).length;

const WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike november oscar papa"
  .split(" ");
/** Message i: 50 to 129 lines of text, every third multipart with an HTML part; 3.8 to 11.2 KiB in all. */
function message(i: number, extraHeader = ""): Uint8Array {
  const line = (k: number) =>
    Array.from({ length: 10 + ((i + k) % 5) }, (_, w) => WORDS[(i * 7 + k * 3 + w) % WORDS.length]).join(" ");
  const body = Array.from({ length: 50 + ((i * 37) % 80) }, (_, k) => line(k)).join("\r\n") +
    (i % 1000 === 7 ? "\r\nthe needle is here\r\n" : "\r\n");
  const head = `From: Sender ${i % 50} <s${i % 50}@remote.test>\r\nTo: ${USER}\r\nSubject: message ${i} ${
    WORDS[i % WORDS.length]
  }\r\nDate: Mon, ${10 + (i % 18)} Nov 2026 10:${
    String(i % 60).padStart(2, "0")
  }:00 +0000\r\nMessage-ID: <${i}@bench.test>\r\n${extraHeader}`;
  const text = i % 3 !== 0 ? `${head}\r\n${body}` : `${head}MIME-Version: 1.0\r\n` +
    `Content-Type: multipart/alternative; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n` +
    `${body}\r\n--b${i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${
      body.slice(0, 1500)
    }</p>\r\n--b${i}--\r\n`;
  return new TextEncoder().encode(text);
}

interface Reply {
  /** The tagged completion line. */
  done: string;
  ok: boolean;
  /** Untagged FETCH responses. */
  fetches: number;
  /** Other untagged responses, literals left out. */
  untagged: string[];
  bytes: number;
}

/**
 * A raw IMAP client over node:net: sends a command, reads responses (skipping literals by their
 * length, so a body never looks like a response) and resolves at the tagged completion.
 */
class Imap {
  #rest: Buffer | null = null;
  #literal = 0;
  #line = "";
  #reply: Reply = { done: "", ok: false, fetches: 0, untagged: [], bytes: 0 };
  #waiter: { tag: string; resolve: (r: Reply) => void; reject: (e: Error) => void } | null = null;
  #continue: (() => void) | null = null;
  #tags = 0;
  closed = false;

  private constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => this.#data(chunk));
    socket.on("close", () => {
      this.closed = true;
      this.#waiter?.reject(new Error(`the server closed the connection (last: ${this.#reply.untagged.at(-1)})`));
      this.#waiter = null;
    });
    socket.on("error", () => {});
  }

  /** Connects and reads the greeting. */
  static async open(port: number): Promise<Imap> {
    const socket = connect(port, "127.0.0.1");
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    const imap = new Imap(socket);
    await new Promise<Reply>((resolve, reject) => (imap.#waiter = { tag: "*", resolve, reject }));
    return imap;
  }

  run(command: string): Promise<Reply> {
    const tag = `t${++this.#tags}`;
    const reply = this.#expect(tag);
    this.socket.write(`${tag} ${command}\r\n`);
    return reply;
  }

  /** APPEND with a non-synchronising literal (LITERAL+) or a synchronising one. */
  async append(mailbox: string, raw: Uint8Array, literalPlus: boolean): Promise<Reply> {
    const tag = `t${++this.#tags}`;
    const reply = this.#expect(tag);
    const command = `${tag} APPEND ${mailbox} {${raw.length}${literalPlus ? "+" : ""}}\r\n`;
    if (literalPlus) {
      this.socket.write(Buffer.concat([Buffer.from(command), raw, Buffer.from("\r\n")]));
    } else {
      const go = new Promise<void>((resolve) => (this.#continue = resolve));
      this.socket.write(command);
      await Promise.race([go, reply]);
      this.socket.write(Buffer.concat([raw, Buffer.from("\r\n")]));
    }
    return reply;
  }

  close(): void {
    this.socket.destroy();
  }

  #expect(tag: string): Promise<Reply> {
    if (this.closed) return Promise.reject(new Error("the connection is closed"));
    this.#reply = { done: "", ok: false, fetches: 0, untagged: [], bytes: 0 };
    return new Promise((resolve, reject) => (this.#waiter = { tag, resolve, reject }));
  }

  #data(chunk: Buffer): void {
    this.#reply.bytes += chunk.length;
    const buf = this.#rest ? Buffer.concat([this.#rest, chunk]) : chunk;
    this.#rest = null;
    let pos = 0;
    while (pos < buf.length) {
      if (this.#literal > 0) {
        const n = Math.min(this.#literal, buf.length - pos);
        this.#literal -= n;
        pos += n;
        continue;
      }
      const nl = buf.indexOf(10, pos);
      if (nl === -1) {
        this.#rest = Buffer.from(buf.subarray(pos));
        break;
      }
      const line = buf.toString("latin1", pos, nl > pos && buf[nl - 1] === 13 ? nl - 1 : nl);
      pos = nl + 1;
      this.#line += line;
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal) {
        this.#literal = Number(literal[1]);
        continue;
      }
      const response = this.#line;
      this.#line = "";
      this.#response(response);
    }
  }

  #response(line: string): void {
    const waiter = this.#waiter;
    if (line.startsWith("+")) {
      this.#continue?.();
      this.#continue = null;
    } else if (waiter?.tag === "*" || !line.startsWith("* ")) {
      if (waiter && (waiter.tag === "*" || line.startsWith(`${waiter.tag} `))) {
        this.#waiter = null;
        this.#reply.done = line;
        this.#reply.ok = waiter.tag === "*" ? line.startsWith("* OK") : line.startsWith(`${waiter.tag} OK`);
        waiter.resolve(this.#reply);
      }
    } else if (/^\* \d+ FETCH /.test(line)) {
      this.#reply.fetches++;
    } else {
      this.#reply.untagged.push(line);
    }
  }
}

/** Connects, logs in and returns the client and how long LOGIN took. */
async function login(port: number): Promise<{ imap: Imap; ms: number }> {
  const imap = await Imap.open(port);
  const t = performance.now();
  const reply = await imap.run(`LOGIN ${USER} "${PASSWORD}"`);
  const ms = performance.now() - t;
  if (!reply.ok) throw new Error(`LOGIN failed on port ${port}: ${reply.done}`);
  return { imap, ms };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
/** Nearest-rank percentile of an ascending list. */
const percentile = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
/** The servers in a different order each repetition. */
const rotate = <T>(list: T[], rep: number) => list.map((_, i) => list[(i + rep) % list.length]!);
const fmt = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const comm = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  } catch {
    return "";
  }
};

interface Target {
  name: string;
  port: number;
  /** Memory of the whole server in MiB: RSS and PSS summed over its processes. */
  memory(): { rss: number; pss: number };
  /** PSS of the per-session processes (Dovecot's imap and imap-login), MiB. */
  sessionPss(): number;
  /** Waits until closed sessions are gone. */
  settle(): Promise<void>;
}

const missing = dovecotMissing();
if (missing) {
  console.error(`skipped: ${missing}`);
  emit("imap-dovecot", []);
  process.exit(0);
}

/** Every measurement by row and server, in the order the table prints them. */
const samples = new Map<string, { unit: string; rate?: boolean; by: Record<string, number[]> }>();
function record(what: string, unit: string, server: string, value: number, rate = false): void {
  if (!samples.has(what)) samples.set(what, { unit, rate, by: {} });
  (samples.get(what)!.by[server] ??= []).push(value);
}

const dir = mkdtempSync(join(tmpdir(), "postern-vs-dovecot-"));
// Its own directory, opened to Dovecot's login and mail users (mkdtemp makes it 0700).
const dovecotDir = mkdtempSync(join(tmpdir(), "dovecot-bench-"));
chmodSync(dovecotDir, 0o755);
const confs = [join(dovecotDir, "plain", "dovecot.conf"), join(dovecotDir, "cached", "dovecot.conf")];
process.on("SIGINT", () => {
  for (const conf of confs) stopDovecotSync(conf);
  process.exit(130);
});
const cleanups: Array<() => Promise<void>> = [];
const problems: string[] = [];
try {
  const version = dovecotVersion();
  console.log(
    `IMAP against Dovecot ${version}: ${N} messages, ${CLIENTS} clients × ${ITERATIONS} sessions, ${SESSIONS} ` +
      `sessions held open, ${R} repetitions alternated; Postern on ${runtime}; Dovecot password scheme ${
        scheme === "plain" ? "PLAIN" : "CRYPT (bcrypt, doveadm pw's default)"
      }`,
  );

  // Postern: plain IMAP on a loopback port, passwords allowed without TLS.
  const config = join(dir, "postern.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, "data"),
      limits: { connectionsPerIp: SESSIONS + CLIENTS + 50 },
      auth: { allowPlaintext: true },
      listeners: Object.fromEntries(
        ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "http"].map((name) => [
          name,
          name === "imap" ? { host: "127.0.0.1", port: 0 } : false,
        ]),
      ),
    }),
  );
  for (const args of [["domain", "add", "example.test"], ["user", "add", USER, "--password", PASSWORD]]) {
    const r = await runPostern([...args, "--config", config], { runtime });
    if (r.code !== 0) throw new Error(`postern ${args.join(" ")} failed: ${r.stderr}`);
  }
  const serve = ["serve", "--config", config, ...(values.workers ? ["--workers", values.workers] : [])];
  const server = Bun.spawn(posternCommand(serve, runtime), {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
  });
  cleanups.push(async () => {
    server.kill("SIGTERM");
    await server.exited;
  });
  const posternPort = await listeningPort(server.stderr, "imap");
  const posternAlive = () => {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(`postern serve ended (exit ${server.exitCode ?? server.signalCode})`);
    }
  };

  // Dovecot, twice on the same Maildir: as configured by default, and with its auth cache on.
  const users = [await passwdLine(USER, PASSWORD, scheme)];
  const dovecots: DovecotInstance[] = [];
  for (const [name, authCacheSize] of [["plain", undefined], ["cached", "10M"]] as const) {
    const d = await startDovecot({
      dir: join(dovecotDir, name),
      port: await freePort(),
      mail: join(dovecotDir, "mail"),
      users,
      sessions: SESSIONS + CLIENTS,
      authCacheSize,
    });
    dovecots.push(d);
    cleanups.push(() => d.stop());
  }

  const posternTree = () => processTree(server.pid);
  const P: Target = {
    name: "Postern",
    port: posternPort,
    memory: () => ({
      rss: posternTree().reduce((n, p) => n + statusMiB(p, "VmRSS"), 0),
      pss: posternTree().reduce((n, p) => n + pssMiB(p), 0),
    }),
    sessionPss: () => 0,
    settle: async () => {
      posternAlive();
      await Bun.sleep(2000);
    },
  };
  const [D, DC] = dovecots.map((d, i): Target => ({
    name: i === 0 ? "Dovecot" : "Dovecot, auth cache",
    port: d.port,
    memory: () => ({
      rss: d.pids().reduce((n, p) => n + statusMiB(p, "VmRSS"), 0),
      pss: d.pids().reduce((n, p) => n + pssMiB(p), 0),
    }),
    sessionPss: () =>
      d.pids().filter((p) => ["imap", "imap-login"].includes(comm(p))).reduce((n, p) => n + pssMiB(p), 0),
    settle: async () => {
      await waitFor(() => !d.pids().some((p) => comm(p) === "imap"), 120_000, () => d.logTail());
      await Bun.sleep(1000);
    },
  })) as [Target, Target];

  // 1. The same messages into both, APPEND one by one over one connection each.
  const conn: Record<string, Imap> = {};
  for (const t of [P, D]) {
    const { imap, ms } = await login(t.port);
    conn[t.name] = imap;
    record("first LOGIN of the account (once)", "ms", t.name, ms);
  }
  const caps = await Promise.all([P, D].map((t) => conn[t.name]!.run("CAPABILITY")));
  const literalPlus = caps.every((c) => c.untagged.some((l) => / LITERAL\+( |$)/.test(l)));
  const appending = `APPEND ${N} one by one${literalPlus ? " (LITERAL+)" : ""}`;
  let bytes = 0;
  for (let rep = 0; rep < (wanted("append") ? R : 1); rep++) {
    // Later rounds go to a scratch mailbox, with a header that keeps Postern from reusing the first round's blobs.
    const mailbox = rep === 0 ? "INBOX" : `Append${rep + 1}`;
    const raws = Array.from({ length: N }, (_, i) => message(i, rep === 0 ? "" : `X-Round: ${rep + 1}\r\n`));
    if (rep === 0) bytes = raws.reduce((n, r) => n + r.length, 0);
    for (const t of rotate([P, D], rep)) {
      const imap = conn[t.name]!;
      if (rep > 0) await imap.run(`CREATE ${mailbox}`);
      const started = performance.now();
      for (const raw of raws) {
        const reply = await imap.append(mailbox, raw, literalPlus);
        if (!reply.ok) throw new Error(`${t.name}: APPEND failed: ${reply.done}`);
      }
      const seconds = (performance.now() - started) / 1000;
      record(appending, "s", t.name, seconds);
      if (rep > 0) {
        const deleted = await imap.run(`DELETE ${mailbox}`);
        if (!deleted.ok) problems.push(`${t.name}: DELETE ${mailbox}: ${deleted.done}`);
      }
      console.log(`APPEND round ${rep + 1} (${mailbox}), ${t.name}: ${seconds.toFixed(1)} s`);
    }
  }
  posternAlive();
  console.log(`postern serve: ${posternTree().length} processes`);
  console.log(`${N} messages, ${(bytes / N / 1024).toFixed(1)} KiB average, ${NEEDLES} with "needle" in the body`);

  // 2. One connection each: the timed commands, the servers' order swapped every repetition.
  const everyOne = (r: Reply) => (r.fetches === N ? null : `${r.fetches} FETCH responses, not ${N}`);
  const summariesFetch = "UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)";
  const bodiesFetch = "UID FETCH 1:* BODY.PEEK[]";
  const allCommands: Array<[string, (r: Reply) => string | null]> = [
    ["SELECT INBOX", (r) => (r.untagged.includes(`* ${N} EXISTS`) ? null : `no * ${N} EXISTS`)],
    [summariesFetch, everyOne],
    [bodiesFetch, everyOne],
    ['UID SEARCH BODY "needle"', (r) => {
      const found = (r.untagged.find((l) => l.startsWith("* SEARCH"))?.split(" ").length ?? 2) - 2;
      return found === NEEDLES ? null : `${found} UIDs found, not ${NEEDLES}`;
    }],
    ["STORE 1:* +FLAGS (\\Flagged)", everyOne],
    ["STORE 1:* +FLAGS.SILENT (\\Seen)", () => null],
    ["STORE 1:* -FLAGS (\\Flagged)", everyOne],
  ];
  const commands = allCommands.filter(([command]) => wanted(command.replace(/^UID /, "").split(" ")[0]!.toLowerCase()));
  const received: Record<string, number> = {};
  for (let rep = 0; rep < R; rep++) {
    const line: string[] = [];
    for (const [command, check] of commands) {
      for (const t of rotate([P, D], rep)) {
        const started = performance.now();
        const reply = await conn[t.name]!.run(command);
        record(command, "ms", t.name, performance.now() - started);
        received[`${command} ${t.name}`] = reply.bytes;
        const wrong = reply.ok ? check(reply) : reply.done;
        if (wrong) problems.push(`${t.name}: ${command} (repetition ${rep + 1}): ${wrong}`);
      }
      const s = samples.get(command)!.by;
      line.push(`${command.split(" (")[0]} ${fmt(s[P.name]!.at(-1)!)}/${fmt(s[D.name]!.at(-1)!)}`);
    }
    // Untimed: \Seen off again, so the next repetition's +FLAGS.SILENT changes every message too.
    for (const t of [P, D]) await conn[t.name]!.run("STORE 1:* -FLAGS.SILENT (\\Seen)");
    console.log(`repetition ${rep + 1}: ${line.join(", ")} ms (Postern/Dovecot)`);
  }
  for (const imap of Object.values(conn)) {
    await imap.run("LOGOUT").catch(() => {});
    imap.close();
  }
  posternAlive();
  const mib = (command: string) =>
    [P, D].map((t) => ((received[`${command} ${t.name}`] ?? 0) / 2 ** 20).toFixed(1)).join(" / ");
  if (wanted("fetch")) {
    console.log(
      `received: summaries ${mib(summariesFetch)} MiB, bodies ${mib(bodiesFetch)} MiB (Postern / Dovecot)`,
    );
  }

  // 3. Short sessions: C clients × I times connect, LOGIN, SELECT INBOX, FETCH 1:10 (FLAGS), LOGOUT.
  const targets = [P, D, DC];
  // The account has logged in on every server before (Postern's credential cache, Dovecot's auth cache),
  // ten times so that each of Postern's processes has seen it.
  for (const t of targets) for (let i = 0; i < 10; i++) (await login(t.port)).imap.close();
  for (let rep = 0; rep < (wanted("sessions") ? R : 0); rep++) {
    for (const t of rotate(targets, rep)) {
      await t.settle();
      const logins: number[] = [];
      const selects: number[] = [];
      const started = performance.now();
      await Promise.all(Array.from({ length: CLIENTS }, async () => {
        for (let i = 0; i < ITERATIONS; i++) {
          const { imap, ms } = await login(t.port);
          logins.push(ms);
          for (const command of ["SELECT INBOX", "FETCH 1:10 (FLAGS)", "LOGOUT"]) {
            const commandStarted = performance.now();
            const reply = await imap.run(command);
            if (command === "SELECT INBOX") selects.push(performance.now() - commandStarted);
            if (!reply.ok) throw new Error(`${t.name}: ${command} failed: ${reply.done}`);
          }
          imap.close();
        }
      }));
      const rate = logins.length / ((performance.now() - started) / 1000);
      logins.sort((a, b) => a - b);
      selects.sort((a, b) => a - b);
      const [p50, p99] = [percentile(logins, 0.5), percentile(logins, 0.99)];
      record(`LOGIN p50 (${CLIENTS} clients × ${ITERATIONS} sessions)`, "ms", t.name, p50);
      record("LOGIN p99", "ms", t.name, p99);
      record("SELECT INBOX p50 in those sessions", "ms", t.name, percentile(selects, 0.5));
      record("sessions/s (connect, LOGIN, SELECT INBOX, FETCH 1:10 (FLAGS), LOGOUT)", "/s", t.name, rate, true);
      console.log(
        `sessions, repetition ${rep + 1}, ${t.name}: LOGIN p50 ${fmt(p50)} ms, p99 ${fmt(p99)} ms, SELECT p50 ${
          fmt(percentile(selects, 0.5))
        } ms, ${fmt(rate)} sessions/s`,
      );
    }
  }

  // 4. S sessions logged in with INBOX selected, held open at once.
  for (let rep = 0; rep < (wanted("open") ? R : 0); rep++) {
    for (const t of rotate(targets, rep)) {
      await t.settle();
      const before = t.memory();
      const open: Imap[] = [];
      const started = performance.now();
      for (let i = 0; i < SESSIONS; i += 100) {
        open.push(
          ...await Promise.all(Array.from({ length: Math.min(100, SESSIONS - i) }, async () => {
            const { imap } = await login(t.port);
            const selected = await imap.run("SELECT INBOX");
            if (!selected.ok) throw new Error(`${t.name}: SELECT INBOX failed: ${selected.done}`);
            return imap;
          })),
        );
      }
      const seconds = (performance.now() - started) / 1000;
      await Bun.sleep(1000);
      const after = t.memory();
      const sessionPss = t.sessionPss();
      const perSession = (mib: number) => (mib * 1024) / SESSIONS;
      record(`open ${SESSIONS} sessions (LOGIN, SELECT INBOX; 100 at a time)`, "s", t.name, seconds);
      record(
        "memory per open session (growth over all processes: Postern RSS, Dovecot PSS)",
        "KiB",
        t.name,
        perSession(t === P ? after.rss - before.rss : after.pss - before.pss),
      );
      record(
        "PSS per open session (Postern: PSS growth; Dovecot: PSS of its imap and imap-login processes)",
        "KiB",
        t.name,
        perSession(t === P ? after.pss - before.pss : sessionPss),
      );
      console.log(
        `${SESSIONS} sessions open, repetition ${rep + 1}, ${t.name}: ${seconds.toFixed(1)} s; RSS ` +
          `${before.rss.toFixed(0)} → ${after.rss.toFixed(0)} MiB, PSS ${before.pss.toFixed(0)} → ` +
          `${after.pss.toFixed(0)} MiB${
            t === P ? "" : `, imap + imap-login processes ${sessionPss.toFixed(0)} MiB PSS`
          }`,
      );
      for (const imap of open) imap.close();
    }
  }
  posternAlive();

  // The report: medians, and Postern / Dovecot as a ratio of times (rates inverted) or of memory.
  console.log(`\nmedians of ${R} (the first login: once); Postern / Dovecot < 1: Postern faster or smaller`);
  console.log("| Measurement | Postern | Dovecot | Dovecot, auth cache | Postern / Dovecot |");
  console.log("|---|---:|---:|---:|---:|");
  const rows = [...samples].map(([what, { unit, rate, by }]) => {
    const [p, d, dc] = [P, D, DC].map((t) => (by[t.name] ? median(by[t.name]!) : undefined));
    const show = (x?: number) => (x === undefined ? "" : `${fmt(x)} ${unit}`);
    const r = rate ? ratio(d!, p!) : ratio(p!, d!);
    console.log(`| ${what} | ${show(p)} | ${show(d)} | ${show(dc)} | ${r} |`);
    return {
      what,
      unit,
      p: p!,
      compare: `${r} × Dovecot (${show(d)}${dc === undefined ? "" : `; auth cache ${show(dc)}`})`,
    };
  });
  for (const d of dovecots) {
    for (const line of d.complaints()) console.log(`dovecot log (port ${d.port}): ${line}`);
  }
  for (const p of problems) console.log(`PROBLEM ${p}`);

  const what = `IMAP vs Dovecot ${version} (${N} msgs, ${(bytes / N / 1024).toFixed(1)} KiB avg, plain IMAP, ` +
    `${runtime}, median of ${R})`;
  emit(
    "imap-dovecot",
    rows.map((r, i) => ({
      name: i === 0 ? `${what}: ${r.what}` : `IMAP vs Dovecot: ${r.what}`,
      value: r.p,
      unit: r.unit,
      compare: r.compare + (problems.length ? "; PROBLEMS" : ""),
    })),
  );
  if (problems.length) process.exitCode = 1;
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((e) => console.error(`cleanup: ${e}`));
  for (const conf of confs) stopDovecotSync(conf);
  for (const d of [dir, dovecotDir]) rmSync(d, { recursive: true, force: true });
}
