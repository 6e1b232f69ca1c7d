/**
 * A Sieve redirect loop (issue 21, RFC 5228 §4.2: redirects must not loop forever), end to end on the runtime named
 * by POSTERN_TEST_RUNTIME: an account whose script redirects its mail to itself sends each message round through
 * the outbound queue and back into this server's own MX, one Received field more each time, until the hop limit
 * refuses it (554 5.4.6); the bounce goes back to the original sender through the SRS address, and the queue drains.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { listen, type Listener } from "../../src/net/listener.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { untilQueuesDrain } from "../helpers/queue-drain.ts";
import { freePortPair } from "../helpers/ports.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";

const remote = new RecordingBackend();
let mx: Listener;
let mail: MailServer;
let port: number;

beforeAll(async () => {
  [port] = await freePortPair();
  mx = await listen(await remoteMxOptions(remote));
  const own = `127.0.0.1:${port}`;
  mail = await startMailServer({
    waitFor: ["smtp"],
    users: { "loop@example.test": "loop-password" },
    config: {
      listeners: { smtp: { host: "127.0.0.1", port } },
      // Mail for this server's own domain and SRS addresses goes back to its own MX.
      delivery: {
        transport: { "example.test": own, "mx.postern.test": own, "remote.test": `127.0.0.1:${mx.address().port}` },
        retryDelay: 1,
      },
      srs: { secret: "srs-secret-for-the-sieve-loop" },
    },
  });
  const file = `${mail.server.dir}/loop.sieve`;
  await Bun.write(file, 'redirect "loop@example.test";\n');
  const put = await mail.server.cli(["sieve", "put", "loop@example.test", "loop", file, "--activate"]);
  expect(put.stderr).toBe("");
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
});

describe(`a Sieve redirect loop on ${runtime()}`, () => {
  test("stops at the hop limit; the bounce reaches the sender; the queue drains", async () => {
    await nodemailer
      .createTransport({ host: "127.0.0.1", port, ignoreTLS: true, name: "client.remote.test" })
      .sendMail({
        envelope: { from: "x@remote.test", to: ["loop@example.test"] },
        raw: "From: x@remote.test\r\nTo: loop@example.test\r\nSubject: round and round\r\n\r\nloop\r\n",
      });
    await untilQueuesDrain([mail.dataDir], { timeoutMs: 50_000, ready: () => remote.received.length > 0 });
    expect(mail.server.log()).toContain("554 5.4.6 Too many hops (51 Received: headers)");
    // One bounce, to the original sender, through the SRS address the redirects carried.
    expect(remote.received.map((r) => r.transaction.recipients.map((x) => x.address))).toEqual([["x@remote.test"]]);
    const [bounce] = remote.received;
    expect(bounce!.transaction.sender).toBe("");
    expect(bounce!.content).toContain("report-type=delivery-status");
    expect(bounce!.content).toMatch(/^Status: 5\.4\.6\r$/m);
  }, 60_000);
});
