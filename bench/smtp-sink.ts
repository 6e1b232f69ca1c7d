/**
 * The protocol floor: Postern's own listener and SMTP session with a backend that accepts
 * every recipient and stores nothing. `bun bench/smtp-sink.ts PORT` prints "ready" when up.
 */
import { createSecureContext, createSelfSigned } from "../src/net/certificate.ts";
import { listen } from "../src/net/listener.ts";
import type { SmtpBackend } from "../src/smtp/backend.ts";
import { smtpHandler } from "../src/smtp/server.ts";

const sink: SmtpBackend = {
  authenticate: async () => null,
  mayUseSender: async () => true,
  checkRecipient: async () => "accept",
  deliver: async () => ({ ok: true }),
};

await listen({
  name: "sink",
  host: "127.0.0.1",
  port: Number(process.argv[2]),
  tls: "none",
  secureContext: createSecureContext(await createSelfSigned("localhost")),
  maxConnectionsPerIp: 1000,
  idleTimeoutMs: 300_000,
  handler: smtpHandler(
    {
      hostname: "sink.test",
      role: "mx",
      maxMessageSize: 25 * 1024 * 1024,
      maxRecipients: 100,
      maxErrors: 20,
      maxCommands: 1_000_000,
      maxAuthFailures: 3,
      allowPlaintextAuth: false,
      maxLineLength: 4096,
      commandTimeoutMs: 300_000,
      dataTimeoutMs: 600_000,
    },
    sink,
  ),
});
console.log("ready");
