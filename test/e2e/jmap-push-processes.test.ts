/**
 * JMAP push with several `postern serve` processes on one data directory (issue 17): every process hears of every
 * change (the change-log watch), but exactly one of them — the holder of the push lease — POSTs each StateChange to a
 * subscription, whichever process the change and the subscription were made through; when the holder is killed, the
 * other takes the lease over once it has expired and pushes from then on. Runs on the runtime named by
 * POSTERN_TEST_RUNTIME.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@libsql/client";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import type { MailServer } from "../helpers/mail-server.ts";
import { runPostern, runtime } from "../helpers/runtime.ts";
import { ServeProcess, writeConfig } from "../helpers/serve-process.ts";
import { tempDir } from "../helpers/tmp.ts";

const ADDRESS = "jo@example.test";
const PASSWORD = "push-processes-password";
/** The lease's lifetime in src/api/jmap/push.ts: the holder takes or renews it for that long at each push. */
const LEASE_MS = 6_000;

let dir: ReturnType<typeof tempDir>;
let dataDir: string;
let endpoint: ReturnType<typeof Bun.serve>;
const received: Array<Record<string, unknown>> = [];
const processes: ServeProcess[] = [];
const sessions: JmapSession[] = [];

beforeAll(async () => {
  endpoint = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      received.push((await request.json()) as Record<string, unknown>);
      return new Response(null, { status: 201 });
    },
  });
  dir = tempDir("postern-push-processes-");
  dataDir = join(dir.path, "data");
  mkdirSync(dataDir, { mode: 0o700 });
  const on = { host: "127.0.0.1", port: 0 };
  const off = Object.fromEntries(
    ["smtp", "submission", "submissions", "imap", "imaps", "pop3", "pop3s", "managesieve"].map((l) => [l, false]),
  );
  const configs = [0, 1].map((i) =>
    writeConfig(join(dir.path, `postern-${i}.json`), {
      hostname: "mx.postern.test",
      dataDir,
      listeners: { ...off, http: on },
      // The recording endpoint is on loopback.
      outbound: { allowPrivateTargets: ["127.0.0.1"] },
    })
  );
  for (const args of [["domain", "add", "example.test"], ["user", "add", ADDRESS, "--password", PASSWORD]]) {
    const result = await runPostern([...args, "--config", configs[0]!]);
    if (result.code !== 0) throw new Error(`postern ${args.join(" ")}: ${result.stderr}`);
  }
  for (const config of configs) {
    const serve = await ServeProcess.start(config, [], { waitFor: ["http"] });
    processes.push(serve);
    // jmapSession needs only the HTTP port of a MailServer.
    sessions.push(await jmapSession({ server: { ports: serve.ports } } as unknown as MailServer, ADDRESS, PASSWORD));
  }
}, 60_000);

afterAll(async () => {
  for (const serve of processes) await serve.stop().catch(() => {});
  endpoint?.stop(true);
  dir?.cleanup();
});

const stateChanges = () => received.filter((r) => r["@type"] === "StateChange");

/** Waits until `count` StateChanges arrived, then a little longer so that a duplicate would have arrived too. */
async function settle(count: number): Promise<number> {
  const started = Date.now();
  while (stateChanges().length < count && Date.now() - started < 10_000) await Bun.sleep(25);
  // The other process hears of a change within the watch interval (250 ms) and would push at once.
  await Bun.sleep(1500);
  return stateChanges().length;
}

/** Which serve process holds the push lease now (its holder is the store's instanceId, `host:pid:random`). */
async function leaseHolder(): Promise<number | null> {
  const client = createClient({ url: `file:${join(dataDir, "postern.db")}` });
  try {
    const row = (await client.execute("SELECT holder, expires_at FROM push_lease WHERE id = 1")).rows[0];
    if (!row || Number(row.expires_at) < Date.now()) return null;
    return Number(String(row.holder).split(":")[1]);
  } finally {
    client.close();
  }
}

const mailbox = (session: JmapSession, name: string) => session.call("Mailbox/set", { create: { m: { name } } });

describe(`JMAP push across serve processes on ${runtime()}`, () => {
  test("one change → one push, whichever process made it; the other takes over when the holder dies", async () => {
    const [first, second] = sessions as [JmapSession, JmapSession];
    const core = ["urn:ietf:params:jmap:core"];
    const [[, made]] = (await first.request([[
      "PushSubscription/set",
      { create: { p: { deviceClientId: "phone", url: `http://127.0.0.1:${endpoint.port}/push` } } },
      "c",
    ]], core)) as [[string, Record<string, unknown>, string]];
    const id = (made.created as Record<string, { id: string }>).p!.id;
    const started = Date.now();
    while (!received.some((r) => r["@type"] === "PushVerification") && Date.now() - started < 5000) {
      await Bun.sleep(25);
    }
    const verification = received.find((r) => r["@type"] === "PushVerification")!;
    expect(received.filter((r) => r["@type"] === "PushVerification")).toHaveLength(1);
    // Verified through the other process: the subscription is in the database, not in one process.
    await second.request([[
      "PushSubscription/set",
      { update: { [id]: { verificationCode: verification.verificationCode } } },
      "v",
    ]], core);

    await mailbox(second, "made through the second");
    expect(await settle(1)).toBe(1);
    await mailbox(first, "made through the first");
    expect(await settle(2)).toBe(2);

    // Kill the holder without a chance to let go; once its lease has expired, the other pushes.
    const holder = await leaseHolder();
    const [dead, alive] = holder === processes[0]!.pid ? [0, 1] : [1, 0];
    expect(holder).toBe(processes[dead]!.pid);
    await processes[dead]!.stop("SIGKILL");
    await Bun.sleep(LEASE_MS);
    await mailbox(sessions[alive]!, "after the takeover");
    expect(await settle(3)).toBe(3);
    expect(await leaseHolder()).toBe(processes[alive]!.pid);
    await mailbox(sessions[alive]!, "and again");
    expect(await settle(4)).toBe(4);
  }, 60_000);
});
