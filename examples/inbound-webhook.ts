/**
 * An inbound-to-webhook gateway: Postern is the MX for one domain and hands every message to
 * your HTTP endpoint as JSON before it answers the sender. If the endpoint is down, the sender
 * gets a 451 and tries again later (that is what MTAs do), so nothing is acknowledged that your
 * application did not take.
 *
 *   WEBHOOK_URL=http://127.0.0.1:3000/mail DOMAIN=in.example.com bun examples/inbound-webhook.ts
 *
 * (For signed, queued deliveries use an alias with an https:// target instead — see the README.)
 */
import { createPostern, type EmbeddedPostern } from "postern";

export interface InboundWebhookOptions {
  domain: string;
  webhookUrl: string;
  smtpPort?: number;
  dataDir?: string;
}

export async function startInboundWebhook(options: InboundWebhookOptions): Promise<EmbeddedPostern> {
  const postern = await createPostern({
    config: {
      hostname: `mx.${options.domain}`,
      dataDir: options.dataDir ?? "./data-inbound-webhook",
      listeners: {
        smtp: { host: "127.0.0.1", port: options.smtpPort ?? 2525 },
        submission: false,
        submissions: false,
        imap: false,
        imaps: false,
        pop3: false,
        pop3s: false,
        http: false,
      },
    },
    hooks: [{
      // The data stage sees the whole message; answering "discard" accepts it without storing it.
      async data(message) {
        const parsed = await message.parsed();
        const response = await fetch(options.webhookUrl, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            from: message.sender,
            to: message.recipients,
            subject: parsed.subject ?? "",
            text: parsed.text ?? "",
            remoteAddress: message.remoteAddress,
          }),
        }).catch(() => null);
        if (!response?.ok) return { action: "tempfail", reason: "the application is not taking mail right now" };
        return { action: "discard" };
      },
    }],
  });
  // Every address of the domain is accepted: a catch-all to one account the hook never lets fill.
  if (!(await postern.domains.get(options.domain))) {
    await postern.domains.add(options.domain);
    await postern.accounts.add({ address: `postmaster@${options.domain}`, password: crypto.randomUUID() });
    await postern.aliases.add(`@${options.domain}`, [`postmaster@${options.domain}`]);
  }
  return postern;
}

if (import.meta.main) {
  const webhookUrl = process.env.WEBHOOK_URL;
  if (!webhookUrl) throw new Error("Set WEBHOOK_URL");
  const postern = await startInboundWebhook({ domain: process.env.DOMAIN ?? "in.example.com", webhookUrl });
  console.log(`MX for ${process.env.DOMAIN ?? "in.example.com"} on port ${postern.addresses.smtp?.port}; Ctrl-C stops`);
  process.on("SIGINT", () => void postern.stop().then(() => process.exit(0)));
}
