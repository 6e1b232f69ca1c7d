/**
 * IMAP logins under load: C clients each run N sessions of connect (imaps), LOGIN, SELECT INBOX,
 * FETCH 1:* (FLAGS), LOGOUT against `postern serve`, cycling through A accounts of M messages.
 * LOGIN latency is reported apart for the first login of an account (those started before any
 * login of it had succeeded: scrypt) and for later ones (the cache of verified credentials,
 * src/auth/credential-cache.ts). The comparison is one scrypt check run in this process.
 *
 *   bun bench/imap-login.ts [--clients 10] [--iterations 50] [--accounts 4] [--messages 20] [--runtime bun|deno|binary]
 *
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { hashPassword, verifyPassword } from "../src/auth/password.ts";
import { summarize } from "../src/mime/summary.ts";
import { Store } from "../src/store/store.ts";
import { LineClient } from "../test/helpers/line-client.ts";
import { posternCommand, ROOT, type Runtime } from "../test/helpers/runtime.ts";
import { emit } from "./report.ts";

const { values } = parseArgs({
  options: {
    clients: { type: "string", default: "10" },
    iterations: { type: "string", default: "50" },
    accounts: { type: "string", default: "4" },
    messages: { type: "string", default: "20" },
    runtime: { type: "string", default: "bun" },
  },
});
const C = Number(values.clients);
const N = Number(values.iterations);
const A = Number(values.accounts);
const M = Number(values.messages);
const runtime = values.runtime as Runtime;
const address = (a: number) => `login${a}@example.test`;
const password = (a: number) => `login-password-${a}`;

async function seed(dataDir: string): Promise<void> {
  const store = await Store.open({ url: `file:${join(dataDir, "postern.db")}` });
  await store.migrate();
  await store.domains.add("example.test");
  for (let a = 0; a < A; a++) {
    const account = await store.accounts.add({ address: address(a), password: password(a) });
    const inbox = (await store.mailboxes.byRole(account.id, "inbox"))!;
    for (let i = 0; i < M; i++) {
      const raw = new TextEncoder().encode(
        `From: s${i}@remote.test\r\nTo: ${
          address(a)
        }\r\nSubject: message ${i}\r\nMessage-ID: <${a}.${i}@bench.test>\r\n\r\nhello ${i}\r\n`,
      );
      await store.mail.append({ accountId: account.id, mailboxId: inbox.id, raw, summary: await summarize(raw) });
    }
  }
  store.close();
}

/** Sends a tagged command and returns its lines once the tagged completion arrives; throws unless OK. */
async function run(client: LineClient, tag: string, command: string): Promise<string[]> {
  await client.line(`${tag} ${command}`);
  const lines = await client.readUntil((l) => l.startsWith(`${tag} `), 30_000);
  if (!lines.at(-1)!.startsWith(`${tag} OK`)) throw new Error(`${command.split(" ")[0]} failed: ${lines.at(-1)}`);
  return lines;
}

/**
 * The imaps port from the server's log (bench/listening.ts reads it the same way), which is then
 * read on to its end: Deno exits when a write to a closed stderr fails.
 */
async function imapsPort(stderr: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let log = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server ended before its imaps listener was up:\n${log}`);
    log += decoder.decode(value, { stream: true });
    const port = /listening listener=imaps address=\S*:(\d+)/.exec(log)?.[1];
    if (port) {
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return Number(port);
    }
  }
}

/** Nearest-rank percentile of an ascending list. */
const percentile = (sorted: number[], q: number) => sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)] ?? NaN;
const ms = (n: number) => `${n.toFixed(1)} ms`;

const dir = mkdtempSync(join(tmpdir(), "postern-login-bench-"));
try {
  console.log(
    `IMAP login: ${C} clients × ${N} sessions (connect, LOGIN, SELECT INBOX, FETCH 1:* (FLAGS), LOGOUT), ${A} accounts of ${M} messages, server on ${runtime}`,
  );
  await seed(join(dir, "data"));
  const hash = await hashPassword("floor");
  let t = performance.now();
  for (let i = 0; i < 5; i++) await verifyPassword("floor", hash);
  const scryptMs = (performance.now() - t) / 5;
  console.log(`floor: one scrypt check in this process: ${ms(scryptMs)}`);

  const config = join(dir, "postern.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, "data"),
      limits: { connectionsPerIp: C + 20 },
      listeners: Object.fromEntries(
        ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "http"].map((name) => [
          name,
          name === "imaps" ? { host: "127.0.0.1", port: 0 } : false,
        ]),
      ),
    }),
  );
  const server = Bun.spawn(posternCommand(["serve", "--config", config], runtime), {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
  });
  const port = await imapsPort(server.stderr);

  /** When each account's first successful LOGIN completed. */
  const verified = new Map<number, number>();
  const first: number[] = [];
  const later: number[] = [];
  const sessions: number[] = [];
  const client = async (c: number) => {
    for (let i = 0; i < N; i++) {
      const a = (c + i) % A;
      const sessionStart = performance.now();
      const imap = await LineClient.connect(port, { tls: true });
      try {
        await imap.readLine(30_000);
        const loginStart = performance.now();
        await run(imap, "a", `LOGIN ${address(a)} "${password(a)}"`);
        const loginEnd = performance.now();
        const seenBefore = verified.get(a);
        (seenBefore !== undefined && seenBefore <= loginStart ? later : first).push(loginEnd - loginStart);
        if (seenBefore === undefined) verified.set(a, loginEnd);
        await run(imap, "b", "SELECT INBOX");
        const fetched = await run(imap, "c", "FETCH 1:* (FLAGS)");
        if (fetched.length !== M + 1) throw new Error(`FETCH returned ${fetched.length - 1} messages, not ${M}`);
        await run(imap, "d", "LOGOUT");
      } finally {
        imap.close();
      }
      sessions.push(performance.now() - sessionStart);
    }
  };
  t = performance.now();
  await Promise.all(Array.from({ length: C }, (_, c) => client(c)));
  const elapsed = performance.now() - t;
  server.kill("SIGTERM");
  await server.exited;

  for (const list of [first, later, sessions]) list.sort((x, y) => x - y);
  const rate = sessions.length / (elapsed / 1000);
  console.log(`${sessions.length} sessions in ${(elapsed / 1000).toFixed(2)} s: ${rate.toFixed(0)} sessions/s`);
  console.log(
    `LOGIN, first of an account (${first.length}): p50 ${ms(percentile(first, 0.5))}, p99 ${
      ms(percentile(first, 0.99))
    }`,
  );
  console.log(
    `LOGIN, later (${later.length}):               p50 ${ms(percentile(later, 0.5))}, p99 ${
      ms(percentile(later, 0.99))
    }`,
  );
  console.log(
    `whole session:                   p50 ${ms(percentile(sessions, 0.5))}, p99 ${ms(percentile(sessions, 0.99))}`,
  );

  emit("imap-login", [
    {
      name: `IMAP LOGIN p50, later logins of an account (${C} clients, imaps, ${runtime})`,
      value: percentile(later, 0.5),
      unit: "ms",
      compare: `p99 ${ms(percentile(later, 0.99))}; first login p50 ${ms(percentile(first, 0.5))}, p99 ${
        ms(percentile(first, 0.99))
      }; one scrypt ${ms(scryptMs)}`,
    },
    {
      name: "IMAP sessions: connect, LOGIN, SELECT INBOX, FETCH 1:* (FLAGS), LOGOUT",
      value: rate,
      unit: "sessions/s",
      compare: `session p50 ${ms(percentile(sessions, 0.5))}, p99 ${ms(percentile(sessions, 0.99))}`,
    },
  ]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
