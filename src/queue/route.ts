/**
 * Where mail for a domain goes: the transport map (the domain's own entry, else `"*"`), then the
 * smart host, then the domain's MX records in preference order with a random order among equals
 * (RFC 5321 §5.1), the domain itself when it has no MX (the implicit MX), and nowhere for a null
 * MX (RFC 7505).
 */
import type { DnsResolve } from "../net/dns.ts";

export interface Hop {
  host: string;
  port: number;
}

export type Route =
  | { kind: "hops"; hops: Hop[]; relay: boolean }
  /** Permanent: bounce now. */
  | { kind: "fail"; code: number; enhanced: string; text: string }
  /** Temporary: try again later. */
  | { kind: "defer"; text: string };

export interface RouteOptions {
  transport: Record<string, string>;
  relayHost?: string;
  resolve: DnsResolve;
  /** Port for MX hosts (25; tests point it elsewhere). */
  mxPort?: number;
  random?: () => number;
}

function hostPort(text: string): Hop {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  return m ? { host: m[1]!, port: Number(m[2]) } : { host: text, port: 25 };
}

function dnsCode(e: unknown): string {
  return (e as { code?: string }).code ?? "";
}

/** The transport map entry for a domain: its own, else `"*"` (every other domain, as in Postfix). */
export function transportFor(domain: string, transport: Record<string, string>): string | undefined {
  return transport[domain.toLowerCase().replace(/\.$/, "")] ?? transport["*"];
}

export async function routeFor(domain: string, options: RouteOptions): Promise<Route> {
  const transport = transportFor(domain, options.transport);
  if (transport) return { kind: "hops", hops: [hostPort(transport)], relay: false };
  if (options.relayHost) return { kind: "hops", hops: [hostPort(options.relayHost)], relay: true };
  const port = options.mxPort ?? 25;
  let records: Array<{ exchange: string; priority: number }>;
  try {
    records = (await options.resolve(domain, "MX")) as Array<{ exchange: string; priority: number }>;
  } catch (e) {
    const code = dnsCode(e);
    if (code === "ENOTFOUND") {
      return { kind: "fail", code: 550, enhanced: "5.1.2", text: `Domain ${domain} does not exist` };
    }
    if (code !== "ENODATA") {
      return { kind: "defer", text: `MX lookup for ${domain} failed: ${code || (e as Error).message}` };
    }
    records = [];
  }
  // RFC 7505: a single MX with an empty exchange says the domain accepts no mail.
  if (records.length === 1 && (records[0]!.exchange === "" || records[0]!.exchange === ".")) {
    return { kind: "fail", code: 556, enhanced: "5.1.10", text: `Domain ${domain} accepts no mail (null MX)` };
  }
  if (records.length === 0) return { kind: "hops", hops: [{ host: domain, port }], relay: false };
  const random = options.random ?? Math.random;
  const shuffled = records.map((r) => ({ ...r, key: random() })).sort((a, b) =>
    a.priority - b.priority || a.key - b.key
  );
  return { kind: "hops", hops: shuffled.map((r) => ({ host: r.exchange.replace(/\.$/, ""), port })), relay: false };
}
