/**
 * ARC (RFC 8617) and DKIM (RFC 6376) in end-to-end tests: give the server under test a key (`postern dkim generate`,
 * published in the test DNS server) and verify what arrives at a recording MX with mailauth, the way the next hop
 * would.
 */
import { createResolver } from "../../src/net/dns.ts";
import type { MailServer } from "./mail-server.ts";

/** Creates a DKIM key of the server for `domain` and publishes its record in the test DNS. */
export async function publishDkimKey(mail: MailServer, domain: string, selector: string): Promise<void> {
  const generated = await mail.server.cli(["dkim", "generate", domain, "--selector", selector]);
  const m = /^(\S+\._domainkey\.\S+)\. IN TXT "([^"]+)"$/m.exec(generated.stdout);
  if (!m) throw new Error(`dkim generate printed no record: ${generated.stdout}${generated.stderr}`);
  mail.dns.add(m[1]!, { type: "TXT", text: m[2]! });
}

/** The server's ARC key: selector arc1 of postern.test, the domain of its host name mx.postern.test. */
export function publishArcKey(mail: MailServer): Promise<void> {
  return publishDkimKey(mail, "postern.test", "arc1");
}

/** What the next hop finds on a message that arrived from the server: the ARC verdict and the DKIM-passing domains. */
export async function nextHopVerdict(
  mail: MailServer,
  content: string,
  sender: string,
): Promise<{ arc: string; dkimPass: string[] }> {
  const { authenticate } = await import("mailauth");
  const result = await authenticate(Buffer.from(content), {
    ip: "127.0.0.1",
    helo: "mx.postern.test",
    sender,
    mta: "mx.remote.test",
    resolver: createResolver([`127.0.0.1:${mail.dns.port}`]) as never,
  });
  const r = result as unknown as {
    arc?: { status?: { result?: string } } | false;
    dkim?: { results?: { status?: { result?: string }; signingDomain?: string }[] };
  };
  return {
    arc: (r.arc && r.arc.status?.result) || "none",
    dkimPass: (r.dkim?.results ?? []).filter((d) => d.status?.result === "pass").map((d) => d.signingDomain ?? ""),
  };
}
