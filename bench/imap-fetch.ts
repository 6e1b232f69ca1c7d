/**
 * IMAP: a mailbox of N messages (mixed plain and multipart, ~8 KiB on average) stored the way
 * delivery stores them, then against `postern serve`:
 *   - UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)
 *   - UID FETCH 1:* BODY.PEEK[]  (every message downloaded)
 *   - UID SEARCH TEXT "needle"
 *   - server RSS with C idle authenticated connections in IDLE on that mailbox.
 * The floor for the downloads is the raw bytes read straight from the database in this process.
 *
 *   bun bench/imap-fetch.ts [--messages 10000] [--idle 2000] [--runtime bun|deno|binary]
 *
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts).
 */
import { createClient } from "@libsql/client";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { parseArgs } from "node:util";
import { summarize } from "../src/mime/summary.ts";
import { Store } from "../src/store/store.ts";
import { posternCommand, ROOT, type Runtime } from "../test/helpers/runtime.ts";
import { listeningPort } from "./listening.ts";
import { emit, ratio } from "./report.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "10000" },
    idle: { type: "string", default: "2000" },
    runtime: { type: "string", default: "bun" },
  },
});
const N = Number(values.messages);
const IDLE = Number(values.idle);
const runtime = values.runtime as Runtime;
const USER = "bench@example.test";
const PASSWORD = "bench-password-1";

function message(i: number): string {
  const words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"];
  const line = () => Array.from({ length: 12 }, (_, k) => words[(i * 7 + k) % words.length]).join(" ");
  const body = Array.from({ length: 60 + (i % 120) }, line).join("\r\n") + (i % 1000 === 0 ? "\r\nneedle\r\n" : "\r\n");
  const head = `From: Sender ${i % 50} <s${
    i % 50
  }@remote.test>\r\nTo: ${USER}\r\nSubject: message ${i}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <${i}@bench.test>\r\n`;
  if (i % 3 !== 0) return `${head}\r\n${body}`;
  return `${head}MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b${i}"\r\n\r\n--b${i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body}\r\n--b${i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>${
    body.slice(0, 2000)
  }</p>\r\n--b${i}--\r\n`;
}

async function seed(dataDir: string): Promise<number> {
  const store = await Store.open({ url: `file:${join(dataDir, "postern.db")}` });
  await store.migrate();
  await store.domains.add("example.test");
  const account = await store.accounts.add({ address: USER, password: PASSWORD });
  const inbox = (await store.mailboxes.byRole(account.id, "inbox"))!;
  let bytes = 0;
  for (let start = 0; start < N; start += 500) {
    const batch = await Promise.all(Array.from({ length: Math.min(500, N - start) }, async (_, k) => {
      const raw = new TextEncoder().encode(message(start + k));
      return { raw, summary: await summarize(raw) };
    }));
    await Promise.all(
      batch.map(({ raw, summary }) =>
        store.mail.append({ accountId: account.id, mailboxId: inbox.id, raw, summary, checkQuota: false })
      ),
    );
    bytes += batch.reduce((n, { raw }) => n + raw.length, 0);
  }
  store.close();
  return bytes;
}

/** A minimal IMAP client: sends a tagged command, resolves at its tagged completion with the byte count received. */
class Client {
  #tail = "";
  #received = 0;
  #waiter: { tag: string; resolve: (n: number) => void } | null = null;
  constructor(readonly socket: TLSSocket) {
    socket.on("data", (chunk: Buffer) => {
      this.#received += chunk.length;
      // Only the end of the stream matters: the tagged completion is the last line.
      this.#tail = (this.#tail + chunk.subarray(Math.max(0, chunk.length - 512)).toString("latin1")).slice(-1024);
      const w = this.#waiter;
      if (w && new RegExp(`(^|\r\n)${w.tag} (OK|NO|BAD) [^\r\n]*\r\n$`).test(this.#tail)) {
        this.#waiter = null;
        w.resolve(this.#received);
      }
    });
  }
  static async open(port: number): Promise<Client> {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", () => resolve()).once("error", reject));
    const client = new Client(socket);
    await new Promise((r) => socket.once("data", r));
    return client;
  }
  run(tag: string, command: string): Promise<number> {
    this.#received = 0;
    this.#tail = "";
    return new Promise((resolve) => {
      this.#waiter = { tag, resolve };
      this.socket.write(`${tag} ${command}\r\n`);
    });
  }
}

const rss = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

const dir = mkdtempSync(join(tmpdir(), "postern-imap-bench-"));
try {
  console.log(`IMAP: ${N} messages, ${IDLE} idle connections, server on ${runtime}`);
  let t = performance.now();
  const bytes = await seed(join(dir, "data"));
  console.log(
    `seeded ${N} messages, ${(bytes / N / 1024).toFixed(1)} KiB average, in ${
      ((performance.now() - t) / 1000).toFixed(1)
    } s`,
  );

  // The floor: reading every blob straight from the database in this process.
  const direct = createClient({ url: `file:${join(dir, "data", "postern.db")}` });
  t = performance.now();
  const rows = await direct.execute("SELECT data FROM blobs");
  const floorMs = performance.now() - t;
  direct.close();
  console.log(`floor: read all ${rows.rows.length} blobs from libSQL in-process: ${floorMs.toFixed(0)} ms`);

  const config = join(dir, "postern.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, "data"),
      limits: { connectionsPerIp: IDLE + 20 },
      listeners: {
        imaps: { host: "127.0.0.1", port: 0 },
        smtp: false,
        submission: false,
        submissions: false,
        imap: false,
        pop3: false,
        pop3s: false,
        http: false,
      },
    }),
  );
  const server = Bun.spawn(posternCommand(["serve", "--config", config], runtime), {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
  });
  const port = await listeningPort(server.stderr, "imaps");
  const client = await Client.open(port);
  await client.run("l", `LOGIN ${USER} ${PASSWORD}`);
  await client.run("s", "SELECT INBOX");
  await Bun.sleep(2000); // let start-up, LOGIN and SELECT garbage settle first
  const before = rss(server.pid);
  const idlers: Client[] = [];
  t = performance.now();
  for (let i = 0; i < IDLE; i += 100) {
    idlers.push(
      ...(await Promise.all(Array.from({ length: Math.min(100, IDLE - i) }, async () => {
        const c = await Client.open(port);
        await c.run("l", `LOGIN ${USER} ${PASSWORD}`);
        await c.run("s", "SELECT INBOX");
        c.socket.write("i IDLE\r\n");
        return c;
      }))),
    );
  }
  await Bun.sleep(500);
  const after = rss(server.pid);
  console.log(
    `${IDLE} connections in IDLE after SELECT of the ${N}-message INBOX (opened in ${
      ((performance.now() - t) / 1000).toFixed(1)
    } s):`,
  );
  console.log(
    `server RSS ${before.toFixed(0)} MiB → ${after.toFixed(0)} MiB, ${
      (((after - before) * 1024) / IDLE).toFixed(0)
    } KiB per idle connection`,
  );
  let tags = 0;
  const measure = async (label: string, command: string) => {
    const started = performance.now();
    const received = await client.run(`t${++tags}`, command);
    const ms = performance.now() - started;
    console.log(
      `${label.padEnd(46)} ${ms.toFixed(0).padStart(6)} ms  ${(received / 1024 / 1024).toFixed(1)} MiB received`,
    );
    return { ms, mib: received / 1024 / 1024 };
  };
  const meta = await measure(
    "UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)",
    "UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)",
  );
  const download = await measure("UID FETCH 1:* BODY.PEEK[] (every message)", "UID FETCH 1:* BODY.PEEK[]");
  console.log(`download / floor: ${(download.ms / floorMs).toFixed(1)}`);
  const search = await measure('UID SEARCH TEXT "needle"', 'UID SEARCH TEXT "needle"');
  emit("imap-fetch", [
    {
      name: `IMAP (${N} msgs, ${
        (bytes / N / 1024).toFixed(1)
      } KiB avg, imaps, ${runtime}) UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE)`,
      value: meta.ms,
      unit: "ms",
      compare: `${meta.mib.toFixed(1)} MiB received`,
    },
    {
      name: "IMAP UID FETCH 1:* BODY.PEEK[] (every message)",
      value: download.ms,
      unit: "ms",
      compare: `${ratio(download.ms, floorMs)} × floor (every blob read in-process: ${floorMs.toFixed(0)} ms); ${
        download.mib.toFixed(0)
      } MiB received`,
    },
    { name: 'IMAP UID SEARCH TEXT "needle"', value: search.ms, unit: "ms" },
    {
      name: `IMAP ${IDLE} sessions logged in, INBOX selected, in IDLE`,
      value: ((after - before) * 1024) / IDLE,
      unit: "KiB/conn",
      compare: `server RSS ${before.toFixed(0)} → ${after.toFixed(0)} MiB`,
    },
  ]);

  for (const c of [...idlers, client]) c.socket.destroy();
  server.kill("SIGTERM");
  await server.exited;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
