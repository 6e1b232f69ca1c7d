/**
 * A forwarding loop across two Postern instances (A forwards loop@a.test to loop@b.test, B
 * forwards it back): the hop limit stops it, the bounce winds back through both SRS rewrites,
 * and both queues drain.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { DnsServer } from "../helpers/dns-server.ts";
import { untilQueuesDrain } from "../helpers/queue-drain.ts";
import { freePortPair } from "../helpers/ports.ts";
import { runtime } from "../helpers/runtime.ts";
import { type ServerProcess, startServer } from "../helpers/server.ts";

let dns: DnsServer;
let a: ServerProcess;
let b: ServerProcess;
let portA: number;
let portB: number;

function config(hostname: string, own: number, other: number, otherDomain: string, otherHost: string) {
  const off = false;
  return {
    hostname,
    dns: { servers: [`127.0.0.1:${dns.port}`] },
    srs: { secret: `loop-secret-${hostname}` },
    delivery: { transport: { [otherDomain]: `127.0.0.1:${other}`, [otherHost]: `127.0.0.1:${other}` }, retryDelay: 1 },
    listeners: {
      smtp: { host: "127.0.0.1", port: own },
      submission: off,
      submissions: off,
      imap: off,
      imaps: off,
      pop3: off,
      pop3s: off,
      managesieve: off,
      http: off,
    },
  };
}

beforeAll(async () => {
  [portA, portB] = await freePortPair();
  dns = await DnsServer.start();
  [a, b] = await Promise.all([
    startServer({ waitFor: ["smtp"], config: config("mx.a.test", portA, portB, "b.test", "mx.b.test") }),
    startServer({ waitFor: ["smtp"], config: config("mx.b.test", portB, portA, "a.test", "mx.a.test") }),
  ]);
  for (const [server, domain, target] of [[a, "a.test", "loop@b.test"], [b, "b.test", "loop@a.test"]] as const) {
    for (const args of [["domain", "add", domain, "--forward"], ["alias", "add", `loop@${domain}`, target]]) {
      const result = await server.cli(args);
      if (result.code !== 0) throw new Error(result.stderr);
    }
  }
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([a?.stop(), b?.stop()]);
  dns?.close();
});

describe(`a forwarding loop on ${runtime()}`, () => {
  test("A → B → A … stops at the hop limit and both queues drain", async () => {
    await nodemailer
      .createTransport({ host: "127.0.0.1", port: portA, ignoreTLS: true, name: "mx.origin.test" })
      .sendMail({
        envelope: { from: "sender@origin.test", to: ["loop@a.test"] },
        raw: "From: sender@origin.test\r\nSubject: round and round\r\n\r\nloop\r\n",
      });
    await untilQueuesDrain([join(a.dir, "data"), join(b.dir, "data")], { timeoutMs: 45_000 });
    // It went round until a hop refused it as a loop, then the bounce wound back.
    const logs = a.log() + b.log();
    expect(logs).toContain("554 5.4.6 Too many hops (51 Received: headers)");
    expect(logs.match(/to=<loop@[ab]\.test> .*status=sent/g)!.length).toBeGreaterThanOrEqual(45);
  }, 60_000);
});
