/**
 * DNS blocklists (RFC 5782): the client's IPv4 address, reversed, under each zone; an A record
 * in 127.0.0.0/8 means listed. Checked at RCPT for inbound mail, so a listed client is refused
 * before it sends any data.
 */
import type { DnsResolve } from "../net/dns.ts";
import type { PolicyCheck } from "./pipeline.ts";
import { accept, type Verdict } from "./verdict.ts";

/** RFC 5782 §2.1: "192.0.2.99" under "zone" is "99.2.0.192.zone"; null for what we do not query. */
export function dnsblName(ip: string, zone: string): string | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return null; // IPv6 lists exist but are rare; not queried yet
  return `${m[4]}.${m[3]}.${m[2]}.${m[1]}.${zone}`;
}

export function dnsbl(options: { zones: readonly string[]; resolve: DnsResolve; timeoutMs: number }): PolicyCheck {
  const cache = new Map<string, { listed: string | null; until: number }>();
  return {
    name: "dnsbl",
    stages: ["rcpt"],
    roles: ["mx"],
    timeoutMs: options.timeoutMs,
    onFailure: "accept",
    async run(context): Promise<Verdict> {
      const hit = cache.get(context.remoteAddress);
      let listed = hit && hit.until > Date.now() ? hit.listed : undefined;
      if (listed === undefined) {
        listed = null;
        for (const zone of options.zones) {
          const name = dnsblName(context.remoteAddress, zone);
          if (!name) break;
          try {
            const answers = (await options.resolve(name, "A")) as string[];
            // RFC 5782 §2.1: only 127.0.0.0/8 answers mean "listed"; others are errors of the list.
            if (answers.some((a) => a.startsWith("127."))) {
              listed = zone;
              break;
            }
          } catch (e) {
            const code = (e as { code?: string }).code;
            if (code !== "ENOTFOUND" && code !== "ENODATA") throw e;
          }
        }
        cache.set(context.remoteAddress, { listed, until: Date.now() + 5 * 60_000 });
      }
      return listed
        ? { action: "reject", reason: `Client address ${context.remoteAddress} is listed by ${listed}` }
        : accept;
    },
  };
}
