/**
 * HTTP API: a mailbox of N messages stored as delivery stores them, then against
 * `postern serve`, sequential requests (so latency is not queueing):
 *   - REST: the newest 50 (`GET /api/v1/accounts/{a}/messages?limit=50`)
 *   - JMAP: Email/query (inMailbox, receivedAt desc, limit 50) + Email/get by result reference
 *   - REST: one message as parsed JSON
 *
 *   bun bench/api.ts [--messages 100000] [--requests 200] [--runtime bun|deno|binary]
 *
 * With BENCH_JSON=1 it also prints a BENCH line for bench/all.ts (see bench/report.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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
    requests: { type: "string", default: "200" },
    runtime: { type: "string", default: "bun" },
  },
});
const N = Number(values.messages);
const R = Number(values.requests);
const USER = "bench@example.test";
const TOKEN = "bench-admin-token-0123456789";

const dir = mkdtempSync(join(tmpdir(), "postern-api-bench-"));
try {
  console.log(`HTTP API: ${N} messages in one INBOX, ${R} sequential requests each, server on ${values.runtime}`);
  const store = await Store.open({ url: `file:${join(dir, "data", "postern.db")}` });
  await store.migrate();
  await store.domains.add("example.test");
  const account = await store.accounts.add({ address: USER, password: "bench-password-1" });
  const inbox = (await store.mailboxes.byRole(account.id, "inbox"))!;
  const t = performance.now();
  for (let start = 0; start < N; start += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(N, start + 1000) - start }, (_, k) => {
        const i = start + k;
        const raw = new TextEncoder().encode(
          `From: Sender ${i % 100} <s${
            i % 100
          }@remote.test>\r\nTo: ${USER}\r\nSubject: message ${i}\r\nMessage-ID: <${i}@bench.test>\r\n\r\nbody of message ${i}\r\n`,
        );
        return store.mail.append({
          accountId: account.id,
          mailboxId: inbox.id,
          raw,
          summary: summarize(raw),
          checkQuota: false,
        });
      }),
    );
  }
  const apiToken = (await store.tokens.create(USER, "bench")).token;
  store.close();
  console.log(`seeded in ${((performance.now() - t) / 1000).toFixed(1)} s`);

  const config = join(dir, "postern.json");
  writeFileSync(
    config,
    JSON.stringify({
      dataDir: join(dir, "data"),
      api: { adminToken: TOKEN },
      listeners: onlyListener("http"),
    }),
  );
  const server = Bun.spawn(posternCommand(["serve", "--config", config], values.runtime as Runtime), {
    cwd: ROOT,
    stdout: "ignore",
    stderr: "pipe",
  });
  const port = await listeningPort(server.stderr, "http");
  const base = `http://127.0.0.1:${port}`;
  const rows: BenchRow[] = [];
  const measure = async (label: string, request: () => Promise<Response>) => {
    for (let i = 0; i < 5; i++) await (await request()).arrayBuffer(); // warm up
    const times: number[] = [];
    const started = performance.now();
    for (let i = 0; i < R; i++) {
      const s = performance.now();
      const res = await request();
      if (!res.ok) throw new Error(`${label}: HTTP ${res.status}`);
      await res.arrayBuffer();
      times.push(performance.now() - s);
    }
    const seconds = (performance.now() - started) / 1000;
    times.sort((a, b) => a - b);
    console.log(
      `${label.padEnd(52)} p50 ${percentile(times, 50).toFixed(1).padStart(7)} ms  p99 ${
        percentile(times, 99).toFixed(1).padStart(7)
      } ms  ${(R / seconds).toFixed(0).padStart(5)} req/s`,
    );
    const name = rows.length
      ? `HTTP ${label}, p50`
      : `HTTP API (${N} msgs, ${R} sequential req, ${values.runtime}) ${label}, p50`;
    rows.push({
      name,
      value: percentile(times, 50),
      unit: "ms",
      compare: `p99 ${percentile(times, 99).toFixed(1)} ms, ${(R / seconds).toFixed(0)} req/s`,
    });
  };
  const admin = { authorization: `Bearer ${TOKEN}` };
  await measure("REST newest 50", () => fetch(`${base}/api/v1/accounts/${USER}/messages?limit=50`, { headers: admin }));
  const jmapBody = JSON.stringify({
    using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
    methodCalls: [
      ["Email/query", {
        accountId: `A${account.id}`,
        filter: { inMailbox: `MB${inbox.id}` },
        sort: [{ property: "receivedAt", isAscending: false }],
        limit: 50,
      }, "q"],
      ["Email/get", {
        accountId: `A${account.id}`,
        "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
        properties: ["subject", "from", "receivedAt", "keywords", "preview"],
      }, "g"],
    ],
  });
  await measure(
    "JMAP Email/query + Email/get, newest 50",
    () =>
      fetch(`${base}/jmap/api`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiToken}`, "content-type": "application/json" },
        body: jmapBody,
      }),
  );
  await measure(
    "REST one message, parsed",
    () => fetch(`${base}/api/v1/accounts/${USER}/messages/${1 + Math.floor(Math.random() * N)}`, { headers: admin }),
  );
  emit("api", rows);
  server.kill("SIGTERM");
  await server.exited;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
