/** Prometheus text exposition (format 0.0.4) of Postern's counters. */
import { DNS_BUCKETS, type DnsCounts, DnsStats, dnsStats } from "../net/dns-stats.ts";
import {
  count,
  localSnapshot,
  mergeSnapshot,
  type PeerSnapshots,
  peerSnapshots,
  type Snapshot,
  TIME_BUCKETS,
} from "../util/counters.ts";

export interface ListenerStats {
  name: string;
  open: number;
  total: number;
}

export type MetricSource = () => ListenerStats[];

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function renderMetrics(
  listeners: ListenerStats[],
  extra: {
    inFlight: number;
    version: string;
    startedAt: number;
    dns?: DnsStats;
    bannedAddresses?: number;
    /** The outbound queue, from the database (every process's). */
    queue?: { messages: number; oldest: Date | null };
    /** From the store: the database's size and the bytes of every account's mail. */
    storage?: { databaseBytes: number; mailBytes: number };
    /** Counters of this process and its workers; the process's own and its workers' snapshots by default. */
    counters?: Snapshot;
    /** The workers' snapshots; read from `<dataDir>/run/` by default (src/util/counters.ts). */
    peers?: PeerSnapshots;
  },
): string {
  const peers = extra.peers ?? peerSnapshots();
  // DNS lookups are counted by the process that made them: this one's, plus each worker's.
  const dns = new DnsStats().add((extra.dns ?? dnsStats).counts());
  for (const part of peers.parts) if (part.dns) dns.add(part.dns as DnsCounts);
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
    ...dnsMetrics(dns),
    ...(extra.queue ? queueMetrics(extra.queue) : []),
    ...(extra.storage ? storageMetrics(extra.storage) : []),
    ...counterMetrics(extra.counters ?? mergeSnapshot(localSnapshot(), peers)),
  ];
  return `${lines.join("\n")}\n`;
}

function queueMetrics(queue: { messages: number; oldest: Date | null }): string[] {
  const age = queue.oldest ? Math.max(0, (Date.now() - queue.oldest.getTime()) / 1000) : 0;
  return [
    "# HELP postern_queue_messages Messages waiting in the outbound queue.",
    "# TYPE postern_queue_messages gauge",
    `postern_queue_messages ${queue.messages}`,
    "# HELP postern_queue_oldest_age_seconds Age of the oldest message in the outbound queue (0 when empty).",
    "# TYPE postern_queue_oldest_age_seconds gauge",
    `postern_queue_oldest_age_seconds ${age.toFixed(3)}`,
  ];
}

function storageMetrics(storage: { databaseBytes: number; mailBytes: number }): string[] {
  return [
    "# HELP postern_storage_database_bytes Size of the database (page count × page size; the WAL not included).",
    "# TYPE postern_storage_database_bytes gauge",
    `postern_storage_database_bytes ${storage.databaseBytes}`,
    "# HELP postern_storage_mail_bytes Bytes of mail in every account's mailboxes (each account's usage, summed).",
    "# TYPE postern_storage_mail_bytes gauge",
    `postern_storage_mail_bytes ${storage.mailBytes}`,
  ];
}

/** The JMAP endpoints counted by name; anything else under /jmap/ is "other". */
const JMAP_ENDPOINTS = new Set(["session", "api", "upload", "download", "eventsource"]);

/** Counts one HTTP request under /jmap/ by endpoint and status (`GET /jmap/session` is a JMAP session). */
export function countJmapRequest(path: string, status: number): void {
  const name = path.split("/")[2] ?? "";
  count("postern_jmap_requests_total", { endpoint: JMAP_ENDPOINTS.has(name) ? name : "other", status });
}

/** What src/util/counters.ts counts: each metric's HELP and TYPE once, then its series. */
const COUNTERS: Record<string, { type: "counter" | "histogram"; help: string }> = {
  postern_sessions_total: {
    type: "counter",
    help: "Sessions (connections served) per listener, by every process: smtp, submission(s), imap(s), pop3(s).",
  },
  postern_messages_received_total: {
    type: "counter",
    help: "Messages accepted (250 after the content), per listener.",
  },
  postern_smtp_refused_total: {
    type: "counter",
    help:
      "Senders, recipients and messages refused, per listener, stage (mail, rcpt, data, bdat) and enhanced status code.",
  },
  postern_sender_checks_total: {
    type: "counter",
    help:
      "SPF, DKIM, DMARC and ARC checks of inbound messages, by source: checked, or kept (an unsigned message's result reused while its DNS answers last).",
  },
  postern_deliveries_total: {
    type: "counter",
    help: "Outbound delivery attempts per recipient, per status (sent, deferred, bounced).",
  },
  postern_auth_attempts_total: {
    type: "counter",
    help: "Password checks on every protocol (SMTP AUTH, IMAP, POP3, HTTP Basic), per result (ok, failed).",
  },
  postern_jmap_requests_total: {
    type: "counter",
    help: "JMAP HTTP requests per endpoint (session, api, upload, download, eventsource) and status.",
  },
  postern_policy_verdicts_total: {
    type: "counter",
    help:
      "Policy check verdicts per check, SMTP stage (rcpt, data) and action (accept, tag, junk, discard, reject, tempfail).",
  },
  postern_policy_check_failures_total: {
    type: "counter",
    help: "Policy checks that failed or timed out (their onFailure verdict is counted too), per check.",
  },
  postern_policy_check_seconds: {
    type: "histogram",
    help: "Time each policy check took, per check.",
  },
  postern_smtp_transaction_seconds: {
    type: "histogram",
    help: "Time from an accepted MAIL FROM to the reply after the message, per listener.",
  },
  postern_delivery_seconds: {
    type: "histogram",
    help: "Time from arrival in the outbound queue to delivery or bounce, per status.",
  },
};

function counterMetrics(snapshot: Snapshot): string[] {
  const lines: string[] = [];
  for (const [name, { type, help }] of Object.entries(COUNTERS)) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    const series = (k: string) => k === name || k.startsWith(`${name}{`);
    if (type === "counter") {
      for (const [k, n] of Object.entries(snapshot.counters).filter(([k]) => series(k)).sort()) lines.push(`${k} ${n}`);
      continue;
    }
    for (const [k, h] of Object.entries(snapshot.histograms).filter(([k]) => series(k)).sort()) {
      const labels = k.slice(name.length + 1, -1); // inside the braces, or "" for none
      const withLe = (le: string) => `${name}_bucket{${labels ? `${labels},` : ""}le="${le}"}`;
      let cumulative = 0;
      [...TIME_BUCKETS.map(String), "+Inf"].forEach((le, i) => {
        cumulative += h.buckets[i] ?? 0;
        lines.push(`${withLe(le)} ${cumulative}`);
      });
      const suffix = labels ? `{${labels}}` : "";
      lines.push(`${name}_sum${suffix} ${h.sum.toFixed(6)}`, `${name}_count${suffix} ${h.count}`);
    }
  }
  return lines;
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
