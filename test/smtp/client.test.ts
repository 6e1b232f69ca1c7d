/**
 * The SMTP client against Postern's own SMTP server (a real listener with an in-memory backend)
 * playing the remote MX.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createSecureContext, createSelfSigned } from "../../src/net/certificate.ts";
import { dial } from "../../src/net/dial.ts";
import { listen, type Listener } from "../../src/net/listener.ts";
import { deliverMessage } from "../../src/smtp/client.ts";
import { smtpHandler } from "../../src/smtp/server.ts";
import { DEFAULTS, FakeBackend } from "./session-harness.ts";

let listener: Listener;
const backend = new FakeBackend();

beforeAll(async () => {
  listener = await listen({
    name: "mx",
    host: "127.0.0.1",
    port: 0,
    tls: "none",
    secureContext: createSecureContext(await createSelfSigned("mx.example.test")),
    maxConnectionsPerIp: 10,
    idleTimeoutMs: 10_000,
    handler: smtpHandler({
      ...DEFAULTS,
      maxMessageSize: 100_000,
      maxLineLength: 4096,
      commandTimeoutMs: 10_000,
      dataTimeoutMs: 10_000,
    }, backend),
  });
});
afterAll(() => listener.close(0));

const connect = () =>
  dial({
    host: "127.0.0.1",
    port: listener.address().port,
    servername: "mx.example.test",
    verifyTls: false,
    connectTimeoutMs: 2000,
    idleTimeoutMs: 5000,
  });

describe("SMTP client", () => {
  test("delivers over opportunistic STARTTLS with pipelined recipients and DSN parameters; refused recipients are reported", async () => {
    const content = new TextEncoder().encode("Subject: out\r\n\r\n.dot line\r\nbyte \u00e9\r\n");
    const outcome = await deliverMessage(
      await connect(),
      {
        sender: "sender@origin.test",
        recipients: [{ address: "alice@example.test", notify: ["FAILURE"], orcpt: "rfc822;alice@example.test" }, {
          address: "nobody@example.test",
        }],
        content,
        envid: "env 1",
        ret: "HDRS",
      },
      { helo: "out.postern.test", requireTls: true },
    );
    expect(outcome.tls).toBe(true);
    expect(outcome.recipients.map((r) => [r.address, r.reply.code, r.reply.enhanced])).toEqual([
      ["alice@example.test", 250, "2.0.0"],
      ["nobody@example.test", 550, "5.1.1"],
    ]);
    const delivered = backend.delivered.at(-1)!;
    expect(delivered.transaction).toMatchObject({
      sender: "sender@origin.test",
      envid: "env 1",
      ret: "HDRS",
      body: "8BITMIME",
    });
    expect(delivered.transaction.recipients).toEqual([{
      address: "alice@example.test",
      notify: ["FAILURE"],
      orcpt: "rfc822;alice@example.test",
    }]);
    expect(delivered.content.endsWith("Subject: out\r\n\r\n.dot line\r\nbyte \u00e9\r\n")).toBe(true);
    expect(delivered.session.tls).not.toBeNull();
  });

  test("a message over the remote SIZE is refused at MAIL for every recipient", async () => {
    const outcome = await deliverMessage(
      await connect(),
      {
        sender: "s@origin.test",
        recipients: [{ address: "alice@example.test" }],
        content: new Uint8Array(200_000).fill(0x61),
      },
      { helo: "out.postern.test", requireTls: false },
    );
    expect(outcome.recipients[0]!.reply).toMatchObject({ code: 552, enhanced: "5.3.4" });
  });

  test("a failing store on the remote side is a temporary failure", async () => {
    backend.failDelivery = true;
    try {
      const outcome = await deliverMessage(
        await connect(),
        {
          sender: "s@origin.test",
          recipients: [{ address: "bob@example.test" }],
          content: new TextEncoder().encode("Subject: x\r\n\r\ny\r\n"),
        },
        { helo: "out.postern.test", requireTls: false },
      );
      expect(outcome.recipients[0]!.reply).toMatchObject({ code: 451, enhanced: "4.3.0" });
    } finally {
      backend.failDelivery = false;
    }
  });

  test("a connection refused is an error the caller treats as temporary", async () => {
    await expect(
      dial({
        host: "127.0.0.1",
        port: 9,
        servername: "x",
        verifyTls: false,
        connectTimeoutMs: 1000,
        idleTimeoutMs: 1000,
      }),
    ).rejects.toThrow();
  });
});
