/**
 * DNS lookups with the resolvers named in `dns.servers` (`ip` or `ip:port`), or the system's.
 * The signature is `dns.promises.resolve`'s, which mailauth and the queue both take.
 */
import { promises as dns } from "node:dns";

export type DnsResolve = (name: string, rrtype: string) => Promise<unknown>;

export function createResolver(servers: readonly string[]): DnsResolve {
  if (servers.length === 0) return (name, rrtype) => dns.resolve(name, rrtype);
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers([...servers]);
  return (name, rrtype) => resolver.resolve(name, rrtype);
}
