/**
 * The log a mail admin reads (issue 20, item 4): one line per connection, login (failed and
 * good, with the client address), accepted message (with the id of its 250 reply), refused
 * recipient and delivery attempt (Postfix's shape), as logfmt by default and as JSON with
 * `log.format: "json"`; `POSTERN_LOG_LEVEL` drops lines below it; the fail2ban filter in
 * contrib/ matches the failed logins (with fail2ban-regex when it is installed).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { listen, type Listener } from "../../src/net/listener.ts";
import { parseLogfmt } from "../../src/util/log.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { freePortPair } from "../helpers/ports.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { posternCommand, ROOT, runPostern, runtime } from "../helpers/runtime.ts";
import { tempDir } from "../helpers/tmp.ts";
import { until } from "../helpers/until.ts";

const work = tempDir("postern-logs-");
let relayPort: number;
let relay: Listener | undefined;
let text: MailServer;
let json: MailServer;

beforeAll(async () => {
  [relayPort] = await freePortPair();
  const config = { delivery: { relayHost: `127.0.0.1:${relayPort}`, retryDelay: 1 } };
  [text, json] = await Promise.all([
    startMailServer({ waitFor: ["smtp", "submission"], users: { "rita@example.test": "rita-password" }, config }),
    startMailServer({
      waitFor: ["smtp", "submission"],
      users: { "rita@example.test": "rita-password" },
      config: { ...config, log: { format: "json" } },
    }),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([text?.stop(), json?.stop()]);
  await relay?.close(0);
  work.cleanup();
});

function lines(mail: MailServer): string[] {
  return mail.server.log().split("\n").filter(Boolean);
}

/** The events every server gets: a failed and a good login, a refused recipient, an accepted message, a submission. */
async function exercise(mail: MailServer): Promise<{ acceptedId: string }> {
  const submission = (pass: string) =>
    nodemailer.createTransport({
      host: "127.0.0.1",
      port: mail.server.ports.submission,
      requireTLS: true,
      name: "client.test",
      tls: { rejectUnauthorized: false },
      auth: { user: "rita@example.test", pass },
    });
  await expect(submission("wrong-password").verify()).rejects.toThrow();
  const smtp = nodemailer.createTransport({
    host: "127.0.0.1",
    port: mail.server.ports.smtp,
    ignoreTLS: true,
    name: "client.test",
  });
  await expect(
    smtp.sendMail({
      envelope: { from: "x@remote.test", to: ["nobody@example.test"] },
      raw: "Subject: refused\r\n\r\nx\r\n",
    }),
  ).rejects.toThrow();
  const accepted = await smtp.sendMail({
    envelope: { from: "x@remote.test", to: ["rita@example.test"] },
    raw: "From: x@remote.test\r\nSubject: logged\r\n\r\nhello\r\n",
  });
  await submission("rita-password").sendMail({
    envelope: { from: "rita@example.test", to: ["far@remote.test"] },
    raw: "From: rita@example.test\r\nTo: far@remote.test\r\nSubject: out\r\n\r\nbye\r\n",
  });
  return { acceptedId: /queued as (\S+)/.exec(accepted.response)![1]! };
}

describe(`log lines on ${runtime()}`, () => {
  test("logfmt: every event of the issue, each line parsed", async () => {
    const { acceptedId } = await exercise(text);
    const deferred = await until(
      "a deferred delivery",
      () => lines(text).map(parseLogfmt).find((f) => f.msg === "delivery" && f.status === "deferred"),
    );
    relay = await listen({ ...(await remoteMxOptions(new RecordingBackend())), port: relayPort });
    const sent = await until(
      "a sent delivery",
      () => lines(text).map(parseLogfmt).find((f) => f.msg === "delivery" && f.status === "sent"),
    );
    const parsed = lines(text).map(parseLogfmt);
    for (const f of parsed) {
      expect(f.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      expect(["debug", "info", "warn", "error"]).toContain(f.level!);
      expect(f.msg).toBeTruthy();
    }
    const find = (msg: string, match: Record<string, string> = {}) =>
      parsed.find((f) => f.msg === msg && Object.entries(match).every(([k, v]) => f[k] === v));

    expect(find("connect", { listener: "smtp", ip: "127.0.0.1" })).toBeDefined();
    expect(find("connect", { listener: "submission", ip: "127.0.0.1" })).toBeDefined();
    expect(find("auth failed", { level: "warn", ip: "127.0.0.1", user: "rita@example.test" })).toBeDefined();
    expect(find("auth ok", { ip: "127.0.0.1", user: "rita@example.test" })).toBeDefined();
    const refused = find("refused", { stage: "rcpt", to: "<nobody@example.test>" });
    expect(refused?.reply).toStartWith("550 5.1.1");
    expect(refused?.listener).toBe("smtp");
    expect(find("accepted", { id: acceptedId })).toMatchObject({
      from: "<x@remote.test>",
      to: "<rita@example.test>",
      tls: "none",
      verdict: "accept",
      results: expect.stringMatching(/^spf=\w+ dkim=\S+ dmarc=\w+$/),
      size: expect.stringMatching(/^\d+$/),
    });
    expect(find("accepted", { to: "<far@remote.test>" })).toMatchObject({
      user: "rita@example.test",
      tls: expect.stringMatching(/^TLSv1\.[23]$/),
      results: "auth=pass",
      queue: expect.stringMatching(/^\d+$/),
    });
    expect(deferred).toMatchObject({
      to: "<far@remote.test>",
      relay: `127.0.0.1[127.0.0.1]:${relayPort}`,
      dsn: "4.4.1",
      level: "warn",
    });
    expect(deferred.reply).toStartWith("451 4.4.1");
    expect(sent).toMatchObject({ to: "<far@remote.test>", relay: `127.0.0.1[127.0.0.1]:${relayPort}`, dsn: "2.0.0" });
    expect(sent.reply).toStartWith("250 ");
    expect(Number(sent.delay)).toBeGreaterThan(0);
    // The raw line, as a Postfix admin greps it.
    expect(text.server.log()).toMatch(
      /msg=delivery queue=\d+ to=<far@remote\.test> relay=127\.0\.0\.1\[127\.0\.0\.1\]:\d+ delay=[\d.]+ attempt=\d+ dsn=2\.0\.0 status=sent reply="250 /,
    );
  }, 60_000);

  test("JSON: one object per line with the same events", async () => {
    const { acceptedId } = await exercise(json);
    const parsed = lines(json).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(parsed.find((e) => e.msg === "auth failed")).toMatchObject({ level: "warn", ip: "127.0.0.1" });
    expect(parsed.find((e) => e.msg === "accepted" && e.id === acceptedId)).toMatchObject({
      from: "<x@remote.test>",
      size: expect.any(Number),
    });
    expect(parsed.find((e) => e.msg === "refused")).toMatchObject({ stage: "rcpt", to: "<nobody@example.test>" });
    await until("a JSON delivery line", () => lines(json).find((l) => l.includes('"msg":"delivery"')));
  }, 60_000);

  test("the fail2ban filter matches failed logins in both formats, and nothing else", () => {
    // What the servers logged, and a line where a client put the failure text in its HELO.
    const hostile = 'time=2026-11-29T01:02:05.456Z level=info msg=accepted helo="msg=\\"auth failed\\" ip=6.6.6.6"\n';
    const all = `${text.server.log()}${json.server.log()}${hostile}`;
    expect(all.split("\n").filter((l) => l.includes("auth failed")).length).toBe(3);
    const log = join(work.path, "postern.log");
    writeFileSync(log, all);
    const filter = join(ROOT, "contrib/fail2ban/filter.d/postern.conf");
    const run = spawnSync("fail2ban-regex", ["--print-all-matched", log, filter], { encoding: "utf8" });
    if (run.error) {
      console.warn("fail2ban-regex is not installed (Debian package fail2ban): checking the filter's regexes directly");
      // As fail2ban does: take the time out of the line, then try each failregex with <ADDR> an address.
      const conf = readFileSync(filter, "utf8");
      const block = /failregex = ([\s\S]*?)\n\n/.exec(conf)![1]!.split("\n").map((l) => l.trim());
      const regexes = block.map((r) => new RegExp(r.replace("<ADDR>", "(?<addr>[0-9a-fA-F.:]+)")));
      const matched = all.split("\n").flatMap((line) => {
        const rest = line.replace(/^(?:time=|\{"time":")\d{4}-\d\d-\d\dT[\d:.]+Z/, "");
        const m = regexes.map((r) => r.exec(rest)).find(Boolean);
        return m ? [m.groups!.addr] : [];
      });
      expect(matched).toEqual(["127.0.0.1", "127.0.0.1"]);
      return;
    }
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/Failregex: 2 total/);
    const matched = run.stdout.slice(run.stdout.indexOf("Matched line(s)"), run.stdout.indexOf("Missed line(s)"));
    expect(matched).not.toContain("6.6.6.6");
  });

  test(
    "POSTERN_LOG_LEVEL sets the level: warn drops info lines, debug adds disconnects; a bad level exits 2",
    async () => {
      const [port] = await freePortPair();
      const configFile = join(work.path, "level.json");
      const off = Object.fromEntries(
        ["submission", "submissions", "imap", "imaps", "pop3", "pop3s", "managesieve", "http"].map((l) => [l, false]),
      );
      writeFileSync(
        configFile,
        JSON.stringify({
          dataDir: join(work.path, "level-data"),
          listeners: { ...off, smtp: { host: "127.0.0.1", port } },
        }),
      );
      const serve = async (level: string) => {
        const proc = Bun.spawn(posternCommand(["serve", "--config", configFile]), {
          cwd: ROOT,
          env: { ...process.env, POSTERN_LOG_LEVEL: level },
          stdin: "ignore",
          stdout: "ignore",
          stderr: "pipe",
        });
        const stderr = new Response(proc.stderr).text();
        for (let i = 0; i < 150; i++) {
          const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then(
            (s) => (s.end(), true),
            () => false,
          );
          if (ok) break;
          await Bun.sleep(100);
        }
        await Bun.sleep(300);
        proc.kill("SIGTERM");
        await proc.exited;
        return await stderr;
      };
      const quiet = await serve("warn");
      expect(quiet).not.toContain("level=info");
      expect(quiet).not.toContain("level=debug");
      const chatty = await serve("debug");
      expect(chatty).toMatch(/level=info msg=connect listener=smtp ip=127\.0\.0\.1 port=\d+/);
      expect(chatty).toMatch(/level=debug msg=disconnect listener=smtp ip=127\.0\.0\.1 seconds=[\d.]+/);
      const bad = await runPostern(["serve", "--config", configFile], { env: { POSTERN_LOG_LEVEL: "loud" } });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("log.level");
    },
    60_000,
  );
});
