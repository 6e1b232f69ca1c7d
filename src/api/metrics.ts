/** Prometheus text exposition (format 0.0.4) of Postern's counters. */

export interface ListenerStats {
  name: string;
  open: number;
  total: number;
}

export type MetricSource = () => ListenerStats[];

const escape = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");

export function renderMetrics(
  listeners: ListenerStats[],
  extra: { inFlight: number; version: string; startedAt: number },
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
  ];
  return `${lines.join("\n")}\n`;
}
