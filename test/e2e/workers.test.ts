/**
 * Several Postern processes on one database behave like one server (issue 15): two or three
 * `postern serve` processes sharing a data directory, and one `serve --workers 2` (a primary and a
 * worker on the same ports, SO_REUSEPORT). Mail taken by any of them is stored once and forwarded
 * once (the queue's leases), IMAP IDLE in one process hears of mail delivered by another (the
 * change-log watch), a POP3 maildrop is locked across processes, and the primary stops and
 * restarts its workers; a worker signalled in the middle of its stop still finishes it. Runs on the
 * runtime named by POSTERN_TEST_RUNTIME.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@libsql/client";
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { DnsServer } from "../helpers/dns-server.ts";
import { LineClient } from "../helpers/line-client.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { RecordingMx } from "../helpers/recording-mx.ts";
import { runPostern, runtime } from "../helpers/runtime.ts";
import { connectionOwners, isRunning, ServeProcess, writeConfig } from "../helpers/serve-process.ts";
import { type Outgoing, sendMany } from "../helpers/smtp-sender.ts";
import { tempDir } from "../helpers/tmp.ts";

/** Messages of the load tests with two processes, each to a local account and to an alias forwarding to a remote MX. */
const MESSAGES = 2000;
/** Fewer with three processes, to keep the file quick: three queue runners contend for the rows all the same. */
const MESSAGES_THREE = 300;
/** SMTP connections at once; 16 makes "every connection went to the same worker" a 1 in 32,768 chance. */
const CONNECTIONS = 16;
/** How long after the last 250 the forwarded copies may take to reach the remote MX. */
const DRAIN_MS = 45_000;
/**
 * Statements a process that took at least one of the connections has run by its stop: it stored
 * over a hundred messages at several statements each. An idle process runs under a hundred.
 */
const BUSY_STATEMENTS = 400;
/** Per-test limit of the load tests (the suite's default is 30 s; these take 15 to 20 s on two busy cores). */
const LOAD_TIMEOUT_MS = 90_000;

const LOCAL = "local@example.test";
const FORWARD = "fwd@example.test";
const REMOTE = "someone@remote.test";
const IDLER = "idler@example.test";
const POPPER = "popper@example.test";
const PASSWORD = "workers-test-password";

let dns: DnsServer;
let mx: RecordingMx;

let template: Awaited<ReturnType<typeof makeTemplate>>;

beforeAll(async () => {
  dns = await DnsServer.start();
  mx = await RecordingMx.start();
  template = await makeTemplate();
}, 60_000);

afterAll(async () => {
  await mx?.close();
  dns?.close();
  template?.cleanup();
});

/** Config for one process: loopback listeners on port 0, the shared data directory, remote.test routed to the MX. */
function config(dataDir: string): Record<string, unknown> {
  const on = { host: "127.0.0.1", port: 0 };
  return {
    hostname: "mx.postern.test",
    dataDir,
    listeners: {
      smtp: on,
      imaps: on,
      pop3s: on,
      submission: false,
      submissions: false,
      imap: false,
      pop3: false,
      managesieve: false,
      http: false,
    },
    // More than CONNECTIONS, which may all land on one process.
    limits: { connectionsPerIp: 64 },
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    delivery: { transport: { "remote.test": `127.0.0.1:${mx.port}` } },
  };
}

/**
 * A database with example.test, its accounts and the forwarding alias, made once with the CLI;
 * each group of processes below starts from a copy of it.
 */
async function makeTemplate(): Promise<{ database: string; cleanup: () => void }> {
  const dir = tempDir("postern-workers-template-");
  const dataDir = join(dir.path, "data");
  const configFile = writeConfig(join(dir.path, "postern.json"), { dataDir });
  const cli = async (args: string[]) => {
    const result = await runPostern([...args, "--config", configFile]);
    if (result.code !== 0) throw new Error(`postern ${args.join(" ")}: ${result.stderr}`);
  };
  await cli(["domain", "add", "example.test"]);
  await Promise.all([
    ...[LOCAL, IDLER, POPPER].map((address) => cli(["user", "add", address, "--password", PASSWORD])),
    cli(["alias", "add", FORWARD, REMOTE]),
  ]);
  return { database: join(dataDir, "postern.db"), cleanup: dir.cleanup };
}

/** A data directory holding a copy of the template database, and a config file per process. */
function prepare(name: string, processes: number): { dataDir: string; configs: string[]; cleanup: () => void } {
  const dir = tempDir(`postern-workers-${name}-`);
  const dataDir = join(dir.path, "data");
  mkdirSync(dataDir, { mode: 0o700 });
  // Nobody has it open: the file (and a WAL, if SQLite left one) is the whole database.
  for (const suffix of ["", "-wal"]) {
    if (existsSync(template.database + suffix)) {
      copyFileSync(template.database + suffix, join(dataDir, `postern.db${suffix}`));
    }
  }
  const configs = Array.from(
    { length: processes },
    (_, i) => writeConfig(join(dir.path, `postern-${i}.json`), config(dataDir)),
  );
  return { dataDir, configs, cleanup: dir.cleanup };
}

/** `count` messages of about 1 KiB, each with its own Message-ID, to the local account and the forwarding alias. */
function batch(tag: string, count: number): Outgoing[] {
  const filler = `${"Several processes, one server. ".repeat(2)}\r\n`.repeat(14);
  return Array.from({ length: count }, (_, i) => ({
    sender: "sender@remote.test",
    recipients: [LOCAL, FORWARD],
    raw: `From: sender@remote.test\r\nTo: ${LOCAL}, ${FORWARD}\r\nSubject: ${tag} ${i}\r\n` +
      `Message-ID: <${messageId(tag, i)}>\r\n\r\n${filler}`,
  }));
}

const messageId = (tag: string, i: number) => `${tag}.${i}@remote.test`;

/** Rows left in the outbound queue (read through a connection of the test's own). */
async function queued(dataDir: string): Promise<number> {
  const client = createClient({ url: `file:${join(dataDir, "postern.db")}` });
  try {
    return Number((await client.execute("SELECT count(*) AS n FROM queue_recipients")).rows[0]!.n);
  } finally {
    client.close();
  }
}

/**
 * Sends `count` messages over CONNECTIONS connections spread over `ports`, then checks that the
 * local INBOX holds each exactly once and the remote MX received each forwarded copy exactly once.
 */
async function deliverAndCount(
  tag: string,
  count: number,
  dataDir: string,
  ports: number[],
  onConnected?: (clientPorts: number[]) => void,
) {
  const messages = batch(tag, count);
  const started = performance.now();
  const sent = await sendMany(ports, CONNECTIONS, messages, { onConnected });
  const sendMs = performance.now() - started;
  expect(sent.accepted.reduce((a, b) => a + b, 0)).toBe(count);

  // Forwarded copies: until the MX has one of each and the queue is empty, or the deadline.
  const ids = messages.map((_, i) => messageId(tag, i));
  const deadline = Date.now() + DRAIN_MS;
  const arrived = () => ids.filter((id) => mx.received.has(id)).length;
  while (Date.now() < deadline && (arrived() < count || (await queued(dataDir)) > 0)) await Bun.sleep(100);
  const drainMs = performance.now() - started - sendMs;
  // A second delivery of a message would come from a lease held by two processes at once: allow it time to show.
  await Bun.sleep(300);
  const twice = ids.filter((id) => (mx.received.get(id) ?? 0) > 1);
  const missing = ids.filter((id) => !mx.received.has(id));
  expect({ missing: missing.length, twice: twice.slice(0, 5), queued: await queued(dataDir) }).toEqual({
    missing: 0,
    twice: [],
    queued: 0,
  });

  const inbox = await readInbox(dataDir, LOCAL);
  const stored = new Map<string, number>();
  for (const m of inbox) {
    const id = /^message-id:[ \t]*<([^>\r\n]+)>/im.exec(m.raw)?.[1] ?? "none";
    if (id.startsWith(`${tag}.`)) stored.set(id, (stored.get(id) ?? 0) + 1);
  }
  expect({
    stored: stored.size,
    storedTwice: [...stored].filter(([, n]) => n > 1).slice(0, 5),
  }).toEqual({ stored: count, storedTwice: [] });
  console.log(
    `[${runtime()}] ${tag}: ${count} messages accepted in ${sendMs.toFixed(0)} ms ` +
      `(per connection ${sent.accepted.join("/")}), forwarded copies drained ${drainMs.toFixed(0)} ms later`,
  );
}

/** `store statistics` lines logged at stop: one per process. */
function statistics(log: string): Array<{ statements: number; commits: number }> {
  return [...log.matchAll(/msg="store statistics" statements=(\d+) commits=(\d+)/g)].map((m) => ({
    statements: Number(m[1]),
    commits: Number(m[2]),
  }));
}

async function stopAll(processes: Array<ServeProcess | undefined>): Promise<void> {
  await Promise.all(processes.map((p) => p?.stop().catch(() => {})));
}

/** An IMAP session (imaps) selected on INBOX and in IDLE. */
async function idle(port: number, address: string) {
  const client = await LineClient.connect(port, { tls: true });
  expect(await client.readLine()).toMatch(/^\* OK/);
  await client.line(`a LOGIN ${address} "${PASSWORD}"`);
  expect((await client.readUntil((l) => l.startsWith("a "))).at(-1)).toMatch(/^a OK/);
  await client.line("b SELECT INBOX");
  const selected = await client.readUntil((l) => l.startsWith("b "));
  expect(selected.at(-1)).toMatch(/^b OK/);
  const exists = Number(selected.map((l) => /^\* (\d+) EXISTS/.exec(l)?.[1]).find(Boolean) ?? 0);
  await client.line("c IDLE");
  expect(await client.readLine()).toMatch(/^\+ /);
  return { client, exists };
}

/** A POP3 session (pop3s) that has sent AUTH PLAIN; returns the server's answer to it. */
async function pop3Login(port: number, address: string): Promise<{ client: LineClient; reply: string }> {
  const client = await LineClient.connect(port, { tls: true });
  expect(await client.readLine()).toMatch(/^\+OK/);
  await client.line(`AUTH PLAIN ${btoa(`\0${address}\0${PASSWORD}`)}`);
  return { client, reply: (await client.readLine()) ?? "(closed)" };
}

describe(`two postern serve processes (--workers 1) on one database, on ${runtime()}`, () => {
  let data: ReturnType<typeof prepare>;
  let a: ServeProcess | undefined;
  let b: ServeProcess | undefined;

  beforeAll(async () => {
    data = prepare("two", 2);
    const waitFor = ["smtp", "imaps", "pop3s"];
    [a, b] = await Promise.all(data.configs.map((c) => ServeProcess.start(c, ["--workers", "1"], { waitFor })));
  }, 60_000);

  afterAll(async () => {
    await stopAll([a, b]);
    data?.cleanup();
  });

  test(
    "2,000 messages sent alternately to both: each stored once in the local INBOX and forwarded once to the remote MX",
    async () => {
      await deliverAndCount("two", MESSAGES, data.dataDir, [a!.ports.smtp!, b!.ports.smtp!]);
    },
    LOAD_TIMEOUT_MS,
  );

  test("IMAP IDLE in process A reports * N EXISTS within 1,000 ms of process B's 250 for a new message", async () => {
    const session = await idle(a!.ports.imaps!, IDLER);
    try {
      // Read from now on, so the time is when the line arrived, not when the test got round to it.
      const heard = session.client.readUntil((l) => /^\* \d+ EXISTS$/.test(l), 5000).then((lines) => ({
        lines,
        at: performance.now(),
      }));
      heard.catch(() => {});
      const viaB = await sendMany([b!.ports.smtp!], 1, [{
        sender: "sender@remote.test",
        recipients: [IDLER],
        raw:
          `From: sender@remote.test\r\nTo: ${IDLER}\r\nSubject: idle\r\nMessage-ID: <idle@remote.test>\r\n\r\nhi\r\n`,
      }]);
      const { lines, at } = await heard;
      expect(lines.at(-1)).toBe(`* ${session.exists + 1} EXISTS`);
      const lateMs = at - viaB.acceptedAt[0]!;
      console.log(`[${runtime()}] IDLE in A heard of B's delivery ${lateMs.toFixed(0)} ms after B's 250`);
      expect(lateMs).toBeLessThanOrEqual(1000);
      await session.client.line("DONE");
      expect((await session.client.readUntil((l) => l.startsWith("c "))).at(-1)).toMatch(/^c OK/);
    } finally {
      session.client.close();
    }
  });

  test("POP3: a maildrop open through process A is -ERR [IN-USE] through process B, and opens through B at once after A's QUIT", async () => {
    const first = await pop3Login(a!.ports.pop3s!, POPPER);
    try {
      expect(first.reply).toMatch(/^\+OK/);
      const second = await pop3Login(b!.ports.pop3s!, POPPER);
      second.client.close();
      expect(second.reply).toMatch(/^-ERR \[IN-USE\]/);
      await first.client.line("QUIT");
      expect(await first.client.readLine()).toMatch(/^\+OK/);
    } finally {
      first.client.close();
    }
    const third = await pop3Login(b!.ports.pop3s!, POPPER);
    try {
      expect(third.reply).toMatch(/^\+OK/);
      await third.client.line("QUIT");
      expect(await third.client.readLine()).toMatch(/^\+OK/);
    } finally {
      third.client.close();
    }
  });

  test("SIGTERM stops both processes with exit 0, and each logs store statistics of the mail it stored", async () => {
    const codes = await Promise.all([a!.stop(), b!.stop()]);
    expect(codes).toEqual([0, 0]);
    for (const p of [a!, b!]) {
      const stats = statistics(p.log());
      expect(stats).toHaveLength(1);
      expect(stats[0]!.statements).toBeGreaterThanOrEqual(BUSY_STATEMENTS);
    }
  });
});

describe(`postern serve --workers 2 on ${runtime()}`, () => {
  let data: ReturnType<typeof prepare>;
  let primary: ServeProcess | undefined;
  let worker = 0;

  beforeAll(async () => {
    data = prepare("pool", 1);
    primary = await ServeProcess.start(data.configs[0]!, ["--workers", "2"], { waitFor: ["smtp"], processes: 2 });
    worker = primary.children()[0] ?? 0;
  }, 60_000);

  afterAll(async () => {
    await stopAll([primary]);
    data?.cleanup();
  });

  test("the primary starts one worker process that listens on the same ports", () => {
    expect(primary!.children()).toEqual([worker]);
    const smtp = [...primary!.log().matchAll(/listening listener=smtp address=\S+:(\d+)/g)].map((m) => Number(m[1]));
    expect(smtp).toEqual([primary!.ports.smtp!, primary!.ports.smtp!]);
  });

  test("a worker killed with SIGKILL is started again (new pid, new listening line) while the primary keeps answering SMTP", async () => {
    // Never signal pid 0 (the test's own process group).
    expect(worker).toBeGreaterThan(0);
    const from = primary!.log().length;
    process.kill(worker, "SIGKILL");
    await primary!.waitFor(/worker exited; starting it again/, { from });
    // The primary goes on taking connections and mail meanwhile (the worker comes back after a delay).
    const meanwhile = await sendMany(
      [primary!.ports.smtp!],
      3,
      [0, 1, 2].map((i) => ({
        sender: "sender@remote.test",
        recipients: [LOCAL],
        raw: `From: sender@remote.test\r\nTo: ${LOCAL}\r\nSubject: while restarting ${i}\r\n\r\nhi\r\n`,
      })),
    );
    expect(meanwhile.accepted).toEqual([1, 1, 1]);
    await primary!.waitFor(new RegExp(`listening listener=smtp address=\\S+:${primary!.ports.smtp}$`, "m"), {
      from,
      timeoutMs: 15_000,
    });
    const children = primary!.children();
    expect(children).toHaveLength(1);
    expect(children[0]).not.toBe(worker);
    expect(isRunning(worker)).toBe(false);
    worker = children[0]!;
  });

  test(
    "2,000 messages over 16 connections to the shared port, served by both processes: each stored once in the local INBOX and forwarded once to the remote MX",
    async () => {
      const pids = [primary!.pid, worker];
      let served: number[] = [];
      await deliverAndCount("pool", MESSAGES, data.dataDir, [primary!.ports.smtp!], (clientPorts) => {
        // Every connection is open: which process holds each (the kernel chose, SO_REUSEPORT).
        const owners = connectionOwners(primary!.ports.smtp!, pids);
        served = pids.map((pid) => clientPorts.filter((port) => owners.get(port) === pid).length);
      });
      console.log(`[${runtime()}] connections served by the primary and the worker: ${served.join(" + ")}`);
      expect(served.reduce((a, b) => a + b, 0)).toBe(CONNECTIONS);
      expect(Math.min(...served)).toBeGreaterThan(0);
    },
    LOAD_TIMEOUT_MS,
  );

  test("SIGTERM to the primary stops it and its worker: exit 0, and no process left behind", async () => {
    const code = await primary!.stop();
    expect(code).toBe(0);
    const deadline = Date.now() + 5000;
    while (isRunning(worker) && Date.now() < deadline) await Bun.sleep(20);
    expect(isRunning(worker)).toBe(false);
    // Both finished their stop (each logs its statistics last) and both stored mail.
    const stats = statistics(primary!.log());
    console.log(`[${runtime()}] --workers 2 store statistics: ${JSON.stringify(stats)}`);
    expect(stats.length).toBe(2);
    for (const s of stats) expect(s.statements).toBeGreaterThanOrEqual(BUSY_STATEMENTS);
  });
});

describe(`three postern serve processes (--workers 1) on one database, on ${runtime()}`, () => {
  let data: ReturnType<typeof prepare>;
  let processes: ServeProcess[] = [];

  beforeAll(async () => {
    data = prepare("three", 3);
    processes = await Promise.all(
      data.configs.map((c) => ServeProcess.start(c, ["--workers", "1"], { waitFor: ["smtp"] })),
    );
  }, 60_000);

  afterAll(async () => {
    await stopAll(processes);
    data?.cleanup();
  });

  test(
    "300 messages sent in turn to all three: each stored once in the local INBOX and forwarded once to the remote MX; all three stop with exit 0",
    async () => {
      await deliverAndCount("three", MESSAGES_THREE, data.dataDir, processes.map((p) => p.ports.smtp!));
      const codes = await Promise.all(processes.map((p) => p.stop()));
      expect(codes).toEqual([0, 0, 0]);
    },
    LOAD_TIMEOUT_MS,
  );
});

/** The pids holding leases on queued recipients (`lease_owner` is `host:pid:random`). */
async function leaseHolders(dataDir: string): Promise<number[]> {
  const client = createClient({ url: `file:${join(dataDir, "postern.db")}` });
  try {
    const rows = (await client.execute("SELECT lease_owner FROM queue_recipients WHERE lease_owner IS NOT NULL")).rows;
    return rows.map((r) => Number(String(r.lease_owner).split(":").at(-2)));
  } finally {
    client.close();
  }
}

/** Polls `check` every 50 ms until it is true; throws after `timeoutMs`. */
async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await Bun.sleep(50);
  }
}

describe(`stopping postern serve --workers 2 on ${runtime()}`, () => {
  /*
   * A process that is stopping keeps its SIGINT/SIGTERM handlers, so a second signal cannot end it
   * in the middle of its stop: systemd's stop (KillMode=control-group) and a terminal's Ctrl-C
   * signal every process of the group, and then the primary signals its workers again; on Deno,
   * ChildProcess.kill() also closes the worker's stdin (the primary looks gone) just before. A
   * worker killed in the middle of an outbound delivery would leave its lease on the recipient and
   * the message would go out twice.
   */
  test(
    "SIGTERM to the primary and its worker at once (systemd's stop) lets the worker finish the delivery it is in: the queue is left empty",
    async () => {
      const data = prepare("stop", 1);
      const primary = await ServeProcess.start(data.configs[0]!, ["--workers", "2"], {
        waitFor: ["smtp"],
        processes: 2,
      });
      try {
        const [worker] = primary.children();
        expect(worker).toBeGreaterThan(0);
        // Forward messages until the worker's queue runner is the one delivering one (held at the MX).
        let release: (() => void) | undefined;
        for (let i = 0; i < 16 && !release; i++) {
          const hold = mx.holdNext();
          await sendMany([primary.ports.smtp!], 1, [{
            sender: "sender@remote.test",
            recipients: [FORWARD],
            raw: `From: sender@remote.test\r\nTo: ${FORWARD}\r\nMessage-ID: <${messageId("stop", i)}>\r\n\r\nhi\r\n`,
          }]);
          await Promise.race([hold.arrived, Bun.sleep(10_000).then(() => Promise.reject(new Error("not forwarded")))]);
          if ((await leaseHolders(data.dataDir)).includes(worker!)) release = hold.release;
          else {
            hold.release();
            await until("the queue is empty", async () => (await queued(data.dataDir)) === 0);
          }
        }
        expect(release).toBeDefined();
        process.kill(worker!, "SIGTERM");
        process.kill(primary.pid, "SIGTERM");
        await Bun.sleep(500);
        release!();
        // No second signal to the primary: it would meet the same bug.
        expect(await Promise.race([primary.proc.exited, Bun.sleep(15_000).then(() => "still running")])).toBe(0);
        // The worker recorded its delivery before it stopped, and said so.
        expect(await queued(data.dataDir), primary.log()).toBe(0);
        expect(statistics(primary.log()), primary.log()).toHaveLength(2);
      } finally {
        await primary.stop("SIGKILL").catch(() => {});
        data.cleanup();
      }
    },
    30_000,
  );
});
