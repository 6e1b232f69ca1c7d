/**
 * Issue 18, finding 10: with a resolver that never answers, each inbound message waited about
 * 12 s for its SPF/DKIM/DMARC lookups. Now `dns.timeout` and `dns.attempts` bound every lookup,
 * the lookups of one message share one deadline of `dns.timeout`, the checks say `temperror`, and
 * `/metrics` shows DNS lookups, failures and latency.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSocket, type Socket } from "node:dgram";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { renderMetrics } from "../../src/api/metrics.ts";
import { DnsStats } from "../../src/net/dns-stats.ts";
import { createResolver, withDeadline } from "../../src/net/dns.ts";
import { authenticateMessage } from "../../src/policy/mailauth.ts";
import { LineClient } from "../helpers/line-client.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";
import { type ServerProcess, startServer } from "../helpers/server.ts";

/** A UDP "resolver" that takes every query and never answers (a firewalled or dead DNS server). */
class SilentDns {
  queries = 0;
  private constructor(readonly socket: Socket) {
    socket.on("message", () => this.queries++);
  }
  static async start(): Promise<SilentDns> {
    const socket = createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    return new SilentDns(socket);
  }
  get address(): string {
    return `127.0.0.1:${this.socket.address().port}`;
  }
  close(): void {
    this.socket.close();
  }
}

const RAW = new TextEncoder().encode("From: zed@remote.test\r\nTo: jo@example.test\r\nSubject: s\r\n\r\nhi\r\n");

let silent: SilentDns;
beforeAll(async () => {
  silent = await SilentDns.start();
});
afterAll(() => silent?.close());

describe("a resolver that never answers", () => {
  test("dns.timeout and dns.attempts bound one lookup, which fails with ETIMEOUT and is counted", async () => {
    const stats = new DnsStats();
    const resolve = createResolver([silent.address], { timeoutMs: 200, attempts: 2, stats });
    const started = performance.now();
    expect(await resolve("nothing.test", "TXT").catch((e) => e.code)).toBe("ETIMEOUT");
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThan(350);
    expect(elapsed).toBeLessThan(1500);
    expect(stats.lookups.get("TXT")).toBe(1);
    expect(stats.failures.get("TXT ETIMEOUT")).toBe(1);
    expect(stats.count).toBe(1);
  });

  test("withDeadline: every lookup ends by one deadline, later ones fail at once", async () => {
    const resolve = withDeadline(createResolver([silent.address], { timeoutMs: 5000, attempts: 2 }), 300);
    const started = performance.now();
    expect(await resolve("a.test", "TXT").catch((e) => e.code)).toBe("ETIMEOUT");
    expect(await resolve("b.test", "TXT").catch((e) => e.code)).toBe("ETIMEOUT");
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test("SPF and DMARC are temperror within the timeout", async () => {
    await import("mailauth"); // loaded once, so its import time is not measured
    const resolve = createResolver([silent.address], { timeoutMs: 500, attempts: 2 });
    const started = performance.now();
    const result = await authenticateMessage({
      raw: RAW,
      ip: "192.0.2.7",
      helo: "client.test",
      sender: "zed@remote.test",
      hostname: "mx.postern.test",
      resolve,
    });
    expect(performance.now() - started).toBeLessThan(500 + 700);
    expect(result.spf).toBe("temperror");
    expect(result.dmarc).toBe("temperror");
    expect(result.headers).toContain("spf=temperror");
  });

  test("/metrics renders lookups, failures by code and the latency histogram", () => {
    const stats = new DnsStats();
    stats.lookups.set("TXT", 3);
    stats.failures.set("TXT ETIMEOUT", 2);
    stats.buckets[stats.buckets.length - 1] = 3;
    stats.count = 3;
    stats.seconds = 6;
    const text = renderMetrics([], { inFlight: 0, version: "t", startedAt: Date.now(), dns: stats });
    expect(text).toContain('postern_dns_lookups_total{type="TXT"} 3');
    expect(text).toContain('postern_dns_failures_total{type="TXT",code="ETIMEOUT"} 2');
    expect(text).toContain('postern_dns_lookup_duration_seconds_bucket{le="10"} 0');
    expect(text).toContain('postern_dns_lookup_duration_seconds_bucket{le="+Inf"} 3');
    expect(text).toContain("postern_dns_lookup_duration_seconds_count 3");
  });

  test("/metrics adds the workers' DNS counts to the primary's", () => {
    const own = new DnsStats();
    own.lookups.set("TXT", 3);
    own.count = 3;
    own.buckets[0] = 3;
    const worker = new DnsStats();
    worker.lookups.set("TXT", 2);
    worker.lookups.set("MX", 1);
    worker.failures.set("TXT ETIMEOUT", 2);
    worker.count = 3;
    worker.buckets[worker.buckets.length - 1] = 3;
    worker.cacheHits = 4;
    // Through JSON, as a worker's snapshot file carries it.
    const parts = [JSON.parse(JSON.stringify({ dns: worker.counts() })), {}];
    const text = renderMetrics([], {
      inFlight: 0,
      version: "t",
      startedAt: Date.now(),
      dns: own,
      peers: { counters: {}, histograms: {}, parts },
    });
    expect(text).toContain('postern_dns_lookups_total{type="TXT"} 5');
    expect(text).toContain('postern_dns_lookups_total{type="MX"} 1');
    expect(text).toContain('postern_dns_failures_total{type="TXT",code="ETIMEOUT"} 2');
    expect(text).toContain("postern_dns_cache_hits_total 4");
    expect(text).toContain('postern_dns_lookup_duration_seconds_bucket{le="0.005"} 3');
    expect(text).toContain('postern_dns_lookup_duration_seconds_bucket{le="+Inf"} 6');
    expect(text).toContain("postern_dns_lookup_duration_seconds_count 6");
    expect(own.lookups.get("TXT")).toBe(3); // the process's own stats are not changed by a scrape
  });
});

describe(`postern serve on ${runtime()} with a resolver that never answers`, () => {
  const TIMEOUT_S = 1;
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer({
      waitFor: ["smtp", "http"],
      config: { dns: { servers: [silent.address], timeout: TIMEOUT_S, attempts: 2 }, auth: { allowPlaintext: true } },
      // Workers, as by default on a multi-core machine: their DNS lookups reach the primary's /metrics with their counters.
      args: ["--workers", "2"],
    });
    for (const args of [["domain", "add", "example.test"], ["user", "add", "jo@example.test", "--password", "pw"]]) {
      const result = await server.cli(args);
      if (result.code !== 0) throw new Error(result.stderr);
    }
  }, 60_000);
  afterAll(async () => {
    await server?.stop();
  });

  async function send(subject: string): Promise<number> {
    const smtp = await LineClient.connect(server.ports.smtp!);
    try {
      await smtp.reply();
      for (const command of ["EHLO client.test", "MAIL FROM:<zed@remote.test>", "RCPT TO:<jo@example.test>", "DATA"]) {
        await smtp.line(command);
        await smtp.reply();
      }
      const started = performance.now();
      await smtp.send(`From: zed@remote.test\r\nSubject: ${subject}\r\n\r\nhi\r\n.\r\n`);
      const reply = await smtp.reply(20_000);
      expect(reply[0]).toStartWith("250 2.0.0");
      return performance.now() - started;
    } finally {
      smtp.close();
    }
  }

  test("a message is accepted within dns.timeout and says temperror; /metrics counts the failures", async () => {
    await send("warm-up"); // the first message also loads mailauth
    const ms = await send("measured");
    expect(ms).toBeLessThan(TIMEOUT_S * 1000 + 1500);
    const stored = await readInbox(join(server.dir, "data"), "jo@example.test");
    const header = stored.at(-1)!.raw.split("\r\n\r\n")[0]!.replace(/\r\n\s+/g, " ");
    expect(header).toMatch(/^Authentication-Results: mx\.postern\.test;.* spf=temperror /m);
    expect(header).toMatch(/dmarc=temperror/);
    // The lookup itself goes on in the background (dns.attempts × dns.timeout) and is counted when it ends; a worker
    // leaves its counts every 5 s.
    const failed = /postern_dns_failures_total\{type="TXT",code="ETIMEOUT"\} [1-9]/;
    let metrics = "";
    for (let i = 0; i < 120 && !failed.test(metrics); i++) {
      if (i > 0) await Bun.sleep(100);
      metrics = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
    }
    expect(metrics).toMatch(failed);
    expect(metrics).toMatch(/postern_dns_lookup_duration_seconds_count [1-9]/);
  }, 30_000);

  test("a worker's DNS lookups reach the primary's /metrics", async () => {
    // Only workers leave snapshots (<dataDir>/run/metrics-<pid>.json); send until one of them took a message.
    const runDir = join(server.dir, "data", "run");
    const workerSnapshot = () => {
      for (const f of existsSync(runDir) ? readdirSync(runDir) : []) {
        if (!/^metrics-\d+\.json$/.test(f)) continue;
        const snapshot = JSON.parse(readFileSync(join(runDir, f), "utf8"));
        if (snapshot.counters['postern_messages_received_total{listener="smtp"}'] > 0) return snapshot;
      }
      return undefined;
    };
    let snapshot = workerSnapshot();
    for (let round = 0; round < 4 && !snapshot; round++) {
      await Promise.all([1, 2, 3].map((n) => send(`round ${round}.${n}`)));
      for (let i = 0; i < 70 && !snapshot; i++) {
        await Bun.sleep(100);
        snapshot = workerSnapshot();
      }
    }
    expect(snapshot).toBeDefined();
    // The worker's snapshot carries its DNS statistics beside its counters …
    const dns = snapshot.parts?.dns;
    expect(dns?.lookups?.TXT).toBeGreaterThan(0);
    // … and /metrics counts them with the primary's own.
    const metrics = await (await fetch(`http://127.0.0.1:${server.ports.http}/metrics`)).text();
    const txt = Number(/postern_dns_lookups_total\{type="TXT"\} (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(txt).toBeGreaterThanOrEqual(dns.lookups.TXT);
    const count = Number(/postern_dns_lookup_duration_seconds_count (\d+)/.exec(metrics)?.[1] ?? 0);
    expect(count).toBeGreaterThanOrEqual(dns.count);
  }, 60_000);
});
