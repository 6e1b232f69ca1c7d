/**
 * ARC (RFC 8617) in end-to-end tests: give the server under test a sealing key (`postern dkim generate` for its
 * host's domain, published in the test DNS server) and verify what arrives at a recording MX with mailauth, the
 * way the next hop would.
 */
import { createResolver } from "../../src/net/dns.ts";
import type { MailServer } from "./mail-server.ts";

/** Creates the server's ARC key (selector arc1 of postern.test, the domain of mx.postern.test) and publishes it. */
export async function publishArcKey(mail: MailServer): Promise<void> {
  const generated = await mail.server.cli(["dkim", "generate", "postern.test", "--selector", "arc1"]);
  const m = /^(arc1\._domainkey\.postern\.test)\. IN TXT "([^"]+)"$/m.exec(generated.stdout);
  if (!m) throw new Error(`dkim generate printed no record: ${generated.stdout}${generated.stderr}`);
  mail.dns.add(m[1]!, { type: "TXT", text: m[2]! });
}

/** The ARC verdict of the next hop ("pass", "fail", "none") on a message that arrived from the server. */
export async function arcVerdict(mail: MailServer, content: string, sender: string): Promise<string> {
  const { authenticate } = await import("mailauth");
  const result = await authenticate(Buffer.from(content), {
    ip: "127.0.0.1",
    helo: "mx.postern.test",
    sender,
    mta: "mx.remote.test",
    resolver: createResolver([`127.0.0.1:${mail.dns.port}`]) as never,
  });
  return (result.arc as { status?: { result?: string } } | false || undefined)?.status?.result ?? "none";
}
