/**
 * The policy pipeline and the daemon clients against scripted fakes of spamd and clamd:
 * answers, broken replies, silence.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { createServer as createHttpServer } from "node:http";
import { createServer, type Server } from "node:net";
import { clamav, clamdScan, parseClamdReply } from "../../src/policy/clamd.ts";
import { type PolicyCheck, type PolicyContext, PolicyPipeline } from "../../src/policy/pipeline.ts";
import { rateLimits } from "../../src/policy/rate-limit.ts";
import { rspamd, rspamdVerdict } from "../../src/policy/rspamd.ts";
import { parseSpamdReply, spamassassin } from "../../src/policy/spamd.ts";
import { combine } from "../../src/policy/verdict.ts";

const servers: Server[] = [];
afterAll(() => servers.forEach((s) => s.close()));

/** A fake daemon: reads the whole request (until it has `until` bytes or a pause), answers `reply`, or never answers. */
async function fakeDaemon(reply: string | null): Promise<{ port: number; received: () => string }> {
  let received = "";
  const server = createServer((socket) => {
    socket.on("data", (d) => {
      received += d.toString("latin1");
      // spamd: the body is complete when Content-length bytes follow the blank line; clamd: a zero chunk ends.
      const spamdDone = /Content-length: (\d+)\r\n[^]*?\r\n\r\n/.exec(received) &&
        received.length - received.indexOf("\r\n\r\n") - 4 >= Number(/Content-length: (\d+)/.exec(received)![1]);
      const clamdDone = received.startsWith("zINSTREAM\0") && received.endsWith("\0\0\0\0");
      if ((spamdDone || clamdDone) && reply !== null) socket.end(reply);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, received: () => received };
}

const context = (raw = "Subject: x\r\n\r\nbody\r\n"): PolicyContext => ({
  stage: "data",
  role: "mx",
  remoteAddress: "192.0.2.1",
  helo: "h",
  sender: "s@x.test",
  recipients: ["r@y.test"],
  account: null,
  raw: new TextEncoder().encode(raw),
});

describe("spamd client", () => {
  test("parses spam and ham replies, refuses garbage", () => {
    expect(parseSpamdReply("SPAMD/1.1 0 EX_OK\r\nContent-length: 5\r\nSpam: True ; 1000.0 / 5.0\r\n\r\nGTUBE")).toEqual(
      { spam: true, score: 1000, threshold: 5, symbols: ["GTUBE"] },
    );
    expect(parseSpamdReply("SPAMD/1.1 0 EX_OK\r\nSpam: False ; -0.3 / 5.0\r\n\r\n")).toMatchObject({
      spam: false,
      score: -0.3,
    });
    expect(() => parseSpamdReply("HTTP/1.1 400 nope")).toThrow();
    expect(() => parseSpamdReply("SPAMD/1.1 76 EX_PROTOCOL\r\n\r\n")).toThrow(/76/);
  });

  test("high scores reject, lower spam goes to junk, ham is tagged", async () => {
    const check = async (score: string, spam: string) => {
      const fake = await fakeDaemon(`SPAMD/1.1 0 EX_OK\r\nSpam: ${spam} ; ${score} / 5.0\r\n\r\nRULE_A,RULE_B`);
      const verdict = await spamassassin({
        host: "127.0.0.1",
        port: fake.port,
        timeoutMs: 2000,
        onFailure: "accept",
        rejectScore: 10,
      }).run(context());
      expect(fake.received()).toBe(
        "SYMBOLS SPAMC/1.5\r\nContent-length: 20\r\nUser: postern\r\n\r\nSubject: x\r\n\r\nbody\r\n",
      );
      return verdict;
    };
    expect(await check("12.0", "True")).toMatchObject({ action: "reject" });
    expect(await check("6.0", "True")).toMatchObject({
      action: "junk",
      headers: ["X-Spam-Status: Yes, score=6.0 required=5.0 tests=RULE_A,RULE_B", "X-Spam-Flag: YES"],
    });
    expect(await check("1.0", "False")).toMatchObject({ action: "tag" });
  });
});

describe("clamd client", () => {
  test("streams the message in INSTREAM chunks and reads FOUND / OK", async () => {
    const infected = await fakeDaemon("stream: Eicar-Test FOUND\0");
    expect(await clamdScan({ host: "127.0.0.1", port: infected.port }, new Uint8Array(200_000).fill(0x41), 2000))
      .toEqual({ infected: true, signature: "Eicar-Test" });
    // 200,000 bytes in 64 KiB chunks: 4 chunks, each with its 4-byte length, then the zero terminator.
    expect(infected.received().length).toBe(10 + 200_000 + 4 * 4 + 4);
    const clean = await fakeDaemon("stream: OK\0");
    expect(await clamdScan({ host: "127.0.0.1", port: clean.port }, new Uint8Array(10), 2000)).toEqual({
      infected: false,
    });
    expect(() => parseClamdReply("stream: Size limit exceeded ERROR\0")).toThrow(/Size limit/);
  });
});

describe("rspamd client", () => {
  test("sends the envelope in headers to /checkv2 and honours the action", async () => {
    const seen: Array<{ path: string; headers: Record<string, string | string[] | undefined>; body: string }> = [];
    const actions = ["reject", "soft reject", "add header", "no action"];
    const server = createHttpServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ path: req.url!, headers: req.headers, body });
        const action = actions[seen.length - 1]!;
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({ action, score: 9.5, required_score: 15, symbols: { FAKE_RULE: {} } }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const check = rspamd({
        url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
        timeoutMs: 2000,
        onFailure: "accept",
      });
      const results = [];
      for (let i = 0; i < actions.length; i++) {
        results.push((await check.run({ ...context(), recipients: ["a@x.test", "b@x.test"] })).action);
      }
      expect(results).toEqual(["reject", "tempfail", "junk", "tag"]);
      expect(seen[0]).toMatchObject({
        path: "/checkv2",
        headers: { ip: "192.0.2.1", helo: "h", from: "s@x.test", rcpt: "a@x.test, b@x.test" },
        body: "Subject: x\r\n\r\nbody\r\n",
      });
      expect(rspamdVerdict({ action: "no action", score: 1, required_score: 15, symbols: { A: 1 } }).headers).toEqual([
        "X-Spam-Status: No, score=1.0 required=15.0 tests=A",
        "X-Spam-Action: no action",
      ]);
    } finally {
      server.close();
    }
  });
});

describe("rate limits", () => {
  test("count per window, trip over the limit, reset in the next hour", async () => {
    const counters = new Map<string, number>();
    let now = Date.UTC(2026, 10, 23, 10, 30);
    const check = rateLimits({
      limits: { messagesPerAccountPerHour: 2, recipientsPerAccountPerHour: 5 },
      count: async (key, window, amount) => {
        const k = `${key}@${window}`;
        counters.set(k, (counters.get(k) ?? 0) + amount);
        return counters.get(k)!;
      },
      now: () => now,
    });
    const ctx = (recipients: number) => ({
      ...context(),
      role: "submission" as const,
      account: "amy@example.test",
      recipients: Array.from({ length: recipients }, (_, i) => `r${i}@x.test`),
    });
    expect((await check.run(ctx(1))).action).toBe("accept");
    expect((await check.run(ctx(3))).action).toBe("accept");
    expect(await check.run(ctx(1))).toMatchObject({
      action: "tempfail",
      reason: expect.stringContaining("messagesPerAccountPerHour (2)"),
    });
    now += 3_600_000;
    expect((await check.run(ctx(5))).action).toBe("accept");
    expect(await check.run(ctx(1))).toMatchObject({
      action: "tempfail",
      reason: expect.stringContaining("recipientsPerAccountPerHour (5)"),
    });
  });
});

describe("the pipeline", () => {
  const scripted = (
    name: string,
    run: PolicyCheck["run"],
    onFailure: "accept" | "tempfail" = "accept",
    timeoutMs = 200,
  ): PolicyCheck => ({
    name,
    stages: ["data"],
    roles: ["mx"],
    timeoutMs,
    onFailure,
    run,
  });

  test("a silent daemon times out: fail-open tags scan-failed, fail-closed tempfails", async () => {
    const silent = await fakeDaemon(null);
    const open = new PolicyPipeline([
      clamav({ host: "127.0.0.1", port: silent.port, timeoutMs: 300, onFailure: "accept" }),
    ]);
    expect(await open.run(context())).toMatchObject({ action: "tag", headers: ["X-Postern-Scan: clamav scan-failed"] });
    const closed = new PolicyPipeline([
      clamav({ host: "127.0.0.1", port: silent.port, timeoutMs: 300, onFailure: "tempfail" }),
    ]);
    expect(await closed.run(context())).toMatchObject({ action: "tempfail" });
  });

  test("a broken daemon (connection refused) follows the same failure policy", async () => {
    const pipeline = new PolicyPipeline([
      spamassassin({ host: "127.0.0.1", port: 9, timeoutMs: 1000, onFailure: "tempfail", rejectScore: 10 }),
    ]);
    expect(await pipeline.run(context())).toMatchObject({
      action: "tempfail",
      reason: "spamassassin is unavailable, try again later",
    });
  });

  test("the strongest verdict wins, headers are kept, a rejection stops later checks", async () => {
    let ranAfterReject = false;
    const pipeline = new PolicyPipeline([
      scripted("tagger", async () => ({ action: "tag", headers: ["X-A: 1"] })),
      scripted("junker", async () => ({ action: "junk", headers: ["X-B: 2"] })),
      scripted("rejecter", async () => ({ action: "reject", reason: "no" })),
      scripted("never", async () => ((ranAfterReject = true), { action: "accept" })),
    ]);
    expect(await pipeline.run(context())).toMatchObject({
      action: "reject",
      reason: "no",
      headers: ["X-A: 1", "X-B: 2"],
      check: "rejecter",
    });
    expect(ranAfterReject).toBe(false);
    expect(combine([{ action: "junk" }, { action: "discard" }, { action: "tag" }]).action).toBe("discard");
  });

  test("checks for another stage or role are skipped", async () => {
    const pipeline = new PolicyPipeline([{
      ...scripted("mx only", async () => ({ action: "reject" })),
      roles: ["mx"],
    }]);
    expect(await pipeline.run({ ...context(), role: "submission" })).toMatchObject({ action: "accept" });
    expect(await pipeline.run({ ...context(), stage: "rcpt" })).toMatchObject({ action: "accept" });
  });
});
