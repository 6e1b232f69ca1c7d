/**
 * The webmail's list at scale (issue 22): one mailbox of N messages in conversations of four (stored as delivery
 * stores them, through the store, not SMTP), then against `postern serve`, sequential JMAP requests as the webmail
 * sends them — Email/query with `collapseThreads` and `calculateTotal`, 50 at a time — at the first page and at a
 * page deep in the list (position 80% of the conversations), and the same without collapsing for comparison.
 *
 *   bun bench/collapsed-threads.ts [--messages 100000] [--requests 20] [--runtime bun|deno|binary] [--data DIR]
 *
 * `--data DIR` keeps the seeded database there and reuses it on the next run (seeding 100,000 takes a minute or two).
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { summarize } from "../src/mime/summary.ts";
import { Store } from "../src/store/store.ts";
import { posternCommand, ROOT, type Runtime } from "../test/helpers/runtime.ts";
import { listeningPort, onlyListener } from "./listening.ts";
import { type BenchRow, emit } from "./report.ts";
import { percentile } from "./smtp-load.ts";

const { values } = parseArgs({
  options: {
    messages: { type: "string", default: "100000" },
    requests: { type: "string", default: "20" },
    runtime: { type: "string", default: "bun" },
    data: { type: "string" },
  },
});
const N = Number(values.messages);
const R = Number(values.requests);
const USER = "bench@example.test";
const PASSWORD = "bench-password-1";
/** Messages per conversation: message i answers the first of its group of THREAD. */
const THREAD = 4;

const dir = values.data ?? mkdtempSync(join(tmpdir(), "postern-threads-bench-"));
const dbFile = join(dir, "data", "postern.db");
const seeded = existsSync(dbFile);
try {
  console.log(
    `Collapsed threads: ${N} messages in one INBOX, ${N / THREAD} conversations, server on ${values.runtime}`,
  );
  mkdirSync(join(dir, "data"), { recursive: true });
  const store = await Store.open({ url: `file:${dbFile}` });
  await store.migrate();
  if (!seeded) {
    await store.domains.add("example.test");
    const account = await store.accounts.add({ address: USER, password: PASSWORD });
    const inbox = (await store.mailboxes.byRole(account.id, "inbox"))!;
    const t = performance.now();
    const start = Date.parse("2026-01-01T00:00:00Z");
    const append = (i: number) => {
      const root = i - (i % THREAD);
      const raw = new TextEncoder().encode(
        `From: Sender ${i % 100} <s${i % 100}@remote.test>\r\nTo: ${USER}\r\n` +
          `Subject: ${i === root ? "" : "Re: "}conversation ${root}\r\nMessage-ID: <${i}@bench.test>\r\n` +
          (i === root ? "" : `References: <${root}@bench.test>\r\n`) + `\r\nbody of message ${i}\r\n`,
      );
      return store.mail.append({
        accountId: account.id,
        mailboxId: inbox.id,
        raw,
        summary: summarize(raw),
        receivedAt: new Date(start + i * 1000),
        checkQuota: false,
      });
    };
    // A batch at a time, each conversation's first message before its replies (a reply finds its thread by it).
    for (let from = 0; from < N; from += 1000) {
      const batch = Array.from({ length: Math.min(N, from + 1000) - from }, (_, k) => from + k);
      await Promise.all(batch.filter((i) => i % THREAD === 0).map(append));
      await Promise.all(batch.filter((i) => i % THREAD !== 0).map(append));
    }
    console.log(`seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  }
  const account = (await store.accounts.get(USER))!;
  const inbox = (await store.mailboxes.byRole(account.id, "inbox"))!;
  store.close();

  const config = join(dir, "postern.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, "data"),
      listeners: onlyListener("http"),
    }),
  );
  const server = Bun.spawn(posternCommand(["serve", "--config", config], values.runtime as Runtime), {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
  });
  const port = await listeningPort(server.stderr, "http");
  const authorization = `Basic ${btoa(`${USER}:${PASSWORD}`)}`;
  const rows: BenchRow[] = [];
  /** The webmail's list request: the page's ids, their emails and their threads (src/web/mail/main.ts). */
  const list = async (collapseThreads: boolean, position: number) => {
    const response = await fetch(`http://127.0.0.1:${port}/jmap/api`, {
      method: "POST",
      headers: { authorization, "content-type": "application/json" },
      body: JSON.stringify({
        using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        methodCalls: [
          ["Email/query", {
            accountId: `A${account.id}`,
            filter: { inMailbox: `MB${inbox.id}` },
            sort: [{ property: "receivedAt", isAscending: false }],
            collapseThreads,
            position,
            limit: 50,
            calculateTotal: true,
          }, "q"],
          ["Email/get", {
            accountId: `A${account.id}`,
            "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
            properties: ["threadId", "subject", "from", "receivedAt", "keywords", "preview"],
          }, "g"],
          ["Thread/get", {
            accountId: `A${account.id}`,
            "#ids": { resultOf: "g", name: "Email/get", path: "/list/*/threadId" },
          }, "t"],
        ],
      }),
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    type Query = { ids: string[]; total: number };
    const { methodResponses } = await response.json() as { methodResponses: Array<[string, Query, string]> };
    const [name, query] = methodResponses[0]!;
    if (name !== "Email/query") throw new Error(JSON.stringify(methodResponses[0]));
    return query;
  };
  const measure = async (label: string, collapseThreads: boolean, position: number) => {
    const first = await list(collapseThreads, position); // warm up, and check the answer's shape
    const expected = collapseThreads ? N / THREAD : N;
    if (first.total !== expected || first.ids.length !== 50) {
      throw new Error(`${label}: total ${first.total} (expected ${expected}), ${first.ids.length} ids`);
    }
    const times: number[] = [];
    for (let i = 0; i < R; i++) {
      const s = performance.now();
      await list(collapseThreads, position);
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(48)} p50 ${percentile(times, 50).toFixed(1).padStart(8)} ms  p99 ${
        percentile(times, 99).toFixed(1).padStart(8)
      } ms`,
    );
    rows.push({
      name: `Webmail list (${N} msgs, ${values.runtime}) ${label}, p50`,
      value: percentile(times, 50),
      unit: "ms",
      compare: `p99 ${percentile(times, 99).toFixed(1)} ms`,
    });
  };
  const deep = Math.floor(N / THREAD * 0.8);
  await measure("collapsed, first page", true, 0);
  await measure(`collapsed, position ${deep}`, true, deep);
  await measure("not collapsed, first page", false, 0);
  await measure(`not collapsed, position ${deep * THREAD}`, false, deep * THREAD);
  emit("collapsed-threads", rows);
  server.kill("SIGTERM");
  await server.exited;
} finally {
  if (!values.data) rmSync(dir, { recursive: true, force: true });
}
