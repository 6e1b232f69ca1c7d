/**
 * A forward-only alias service for one domain: no mailboxes, only aliases that forward to
 * people's real addresses, with SRS so the forwarded mail still passes SPF at the next hop.
 *
 *   SRS_SECRET=$(openssl rand -hex 16) bun examples/forward-aliases.ts alias.example.com \
 *     hello=me@gmail.example shop=me@proton.example
 */
import { createPostern, type EmbeddedPostern } from "postern";

export interface ForwardOptions {
  domain: string;
  /** local part → target addresses */
  aliases: Record<string, string[]>;
  srsSecret: string;
  smtpPort?: number;
  dataDir?: string;
  /**
   * Where forwarded mail goes next (`delivery.transport`); by default the targets' MX hosts.
   * `"*"` stands for every domain without its own entry — handy for tests: `{ "*": "127.0.0.1:2526" }`.
   */
  transport?: Record<string, string>;
  dnsServers?: string[];
}

export async function startForwarder(options: ForwardOptions): Promise<EmbeddedPostern> {
  const postern = await createPostern({
    config: {
      hostname: `mx.${options.domain}`,
      dataDir: options.dataDir ?? "./data-forward",
      srs: { secret: options.srsSecret },
      listeners: {
        smtp: { host: "0.0.0.0", port: options.smtpPort ?? 2525 },
        submission: false,
        submissions: false,
        imap: false,
        imaps: false,
        pop3: false,
        pop3s: false,
        http: false,
      },
      delivery: { transport: options.transport ?? {} },
      ...(options.dnsServers ? { dns: { servers: options.dnsServers } } : {}),
    },
  });
  if (!(await postern.domains.get(options.domain))) await postern.domains.add(options.domain, "forward");
  for (const [local, targets] of Object.entries(options.aliases)) {
    // Adding to an existing alias adds targets, so a restart with the same list changes nothing.
    const existing = await postern.aliases.get(`${local}@${options.domain}`);
    const missing = targets.filter((t) => !existing?.targets.includes(t));
    if (missing.length) await postern.aliases.add(`${local}@${options.domain}`, missing);
  }
  return postern;
}

if (import.meta.main) {
  const [domain, ...pairs] = process.argv.slice(2);
  const srsSecret = process.env.SRS_SECRET;
  if (!domain || !srsSecret) throw new Error("usage: SRS_SECRET=… forward-aliases.ts <domain> local=target[,target] …");
  const aliases = Object.fromEntries(pairs.map((p) => [p.split("=")[0]!, p.split("=")[1]!.split(",")]));
  const postern = await startForwarder({ domain, aliases, srsSecret });
  console.log(
    `forwarding ${Object.keys(aliases).length} aliases of ${domain}; SMTP on port ${postern.addresses.smtp?.port}`,
  );
  process.on("SIGINT", () => void postern.stop().then(() => process.exit(0)));
}
