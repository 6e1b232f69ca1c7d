/**
 * A remote MX for outbound tests: Postern's own SMTP server (no TLS) on a loopback port in the
 * test process, handing what arrives to the test's `SmtpBackend`.
 */
import { createSecureContext, createSelfSigned } from "../../src/net/certificate.ts";
import type { ListenOptions } from "../../src/net/listener.ts";
import type { DeliveryResult, MailTransaction, SmtpBackend } from "../../src/smtp/backend.ts";
import { smtpHandler } from "../../src/smtp/server.ts";

/** Listener options for an MX answering as mx.remote.test on a free port; `listen()` them. */
export async function remoteMxOptions(backend: SmtpBackend): Promise<ListenOptions> {
  return {
    name: "remote-mx",
    host: "127.0.0.1",
    port: 0,
    tls: "none",
    secureContext: createSecureContext(await createSelfSigned("mx.remote.test")),
    maxConnectionsPerIp: 50,
    idleTimeoutMs: 10_000,
    handler: smtpHandler(
      {
        hostname: "mx.remote.test",
        role: "mx",
        maxMessageSize: 1_000_000,
        maxRecipients: 100,
        maxErrors: 20,
        maxCommands: 1000,
        maxAuthFailures: 3,
        allowPlaintextAuth: false,
        maxLineLength: 4096,
        commandTimeoutMs: 10_000,
        dataTimeoutMs: 10_000,
      },
      backend,
    ),
  };
}

/** Accepts everything and records it. */
export class RecordingBackend implements SmtpBackend {
  received: Array<{ transaction: MailTransaction; content: string }> = [];
  async authenticate() {
    return null;
  }
  async mayUseSender() {
    return true;
  }
  async checkRecipient() {
    return "accept" as const;
  }
  async deliver(transaction: MailTransaction, content: Uint8Array): Promise<DeliveryResult> {
    this.received.push({ transaction, content: new TextDecoder().decode(content) });
    return { ok: true };
  }
}
