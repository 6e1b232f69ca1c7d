/** Prometheus text exposition (format 0.0.4) of Postern's counters. */
import { DNS_BUCKETS, type DnsStats, dnsStats } from "../net/dns-stats.ts";

export interface ListenerStats {
  name: string;
  open: number;
  total: number;
}

export type MetricSource = () => ListenerStats[];

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function renderMetrics(
  listeners: ListenerStats[],
  extra: { inFlight: number; version: string; startedAt: number; dns?: DnsStats; bannedAddresses?: number },
): string {
  const lines = [
    "# HELP postern_build_info Postern's version.",
    "# TYPE postern_build_info gauge",
    `postern_build_info{version="${escape(extra.version)}"} 1`,
    "# HELP postern_uptime_seconds Seconds since the server started.",
    "# TYPE postern_uptime_seconds gauge",
    `postern_uptime_seconds ${((Date.now() - extra.startedAt) / 1000).toFixed(3)}`,
    "# HELP postern_open_connections Connections open now, per listener.",
    "# TYPE postern_open_connections gauge",
    ...listeners.map((l) => `postern_open_connections{listener="${escape(l.name)}"} ${l.open}`),
    `postern_open_connections{listener="http"} ${extra.inFlight}`,
    "# HELP postern_connections_total Connections accepted since start, per listener.",
    "# TYPE postern_connections_total counter",
    ...listeners.map((l) => `postern_connections_total{listener="${escape(l.name)}"} ${l.total}`),
    "# HELP postern_auth_banned_addresses Addresses banned now for too many failed logins (auth.ban).",
    "# TYPE postern_auth_banned_addresses gauge",
    `postern_auth_banned_addresses ${extra.bannedAddresses ?? 0}`,
    ...dnsMetrics(extra.dns ?? dnsStats),
  ];
  return `${lines.join("\n")}\n`;
}

/** DNS lookups sent, failures by record type and error code, and their duration as a histogram. */
function dnsMetrics(dns: DnsStats): string[] {
  let cumulative = 0;
  const buckets = [...DNS_BUCKETS.map(String), "+Inf"].map((le, i) => {
    cumulative += dns.buckets[i]!;
    return `postern_dns_lookup_duration_seconds_bucket{le="${le}"} ${cumulative}`;
  });
  return [
    "# HELP postern_dns_lookups_total DNS lookups sent to a resolver (cache hits not included), per record type.",
    "# TYPE postern_dns_lookups_total counter",
    ...[...dns.lookups].map(([type, n]) => `postern_dns_lookups_total{type="${escape(type)}"} ${n}`),
    "# HELP postern_dns_failures_total DNS lookups that got no usable answer (timeout, SERVFAIL, refused), per record type and error code.",
    "# TYPE postern_dns_failures_total counter",
    ...[...dns.failures].map(([key, n]) => {
      const [type, code] = key.split(" ");
      return `postern_dns_failures_total{type="${escape(type!)}",code="${escape(code ?? "")}"} ${n}`;
    }),
    "# HELP postern_dns_cache_hits_total TXT lookups answered from the cache.",
    "# TYPE postern_dns_cache_hits_total counter",
    `postern_dns_cache_hits_total ${dns.cacheHits}`,
    "# HELP postern_dns_lookup_duration_seconds Time DNS lookups took, answered or not.",
    "# TYPE postern_dns_lookup_duration_seconds histogram",
    ...buckets,
    `postern_dns_lookup_duration_seconds_sum ${dns.seconds.toFixed(6)}`,
    `postern_dns_lookup_duration_seconds_count ${dns.count}`,
  ];
}
