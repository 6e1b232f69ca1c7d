/**
 * The admin console's overview: messages received per hour over the last day and the outbound queue by age as small
 * SVG bar charts (no chart library), policy verdicts (spam, virus, DNSBL, …) per action and per check, the totals
 * of /metrics (received, refused by reply code, deliveries by result)
 * and the latest replies of remote servers for queued mail. Reloaded every 30 seconds while open.
 */
import { html } from "htm/preact";
import { Table } from "./table.ts";
import { useEffect, useState } from "preact/hooks";
import type { AdminApi } from "./api.ts";

interface Overview {
  queue: {
    messages: number;
    ages: Array<{ label: string; count: number }>;
    recent: Array<{
      queueId: number;
      sender: string;
      recipient: string;
      status: string;
      attempts: number;
      lastReply: string | null;
      queuedAt: string;
    }>;
  };
  totals: {
    received: number;
    refused: Record<string, number>;
    deliveries: Record<string, number>;
    verdicts: { byAction: Record<string, number>; byCheck: Record<string, number> };
  };
  receivedPerHour: Array<{ hour: string; count: number }>;
}

const WIDTH = 480;
const HEIGHT = 120;
const AXIS = 18;

/** Bars with their values as titles (a tooltip, and what a screen reader reads with the chart's label). */
export function BarChart(props: { label: string; bars: Array<{ label: string; value: number }>; every?: number }) {
  const max = Math.max(1, ...props.bars.map((b) => b.value));
  const step = WIDTH / props.bars.length;
  const every = props.every ?? 1;
  return html`
    <figure class="chart">
      <svg viewBox=${`0 0 ${WIDTH} ${HEIGHT + AXIS}`} role="img" aria-label=${`${props.label}: ${
        props.bars.map((b) => `${b.label} ${b.value}`).join(", ")
      }`}>
        <line x1="0" y1=${HEIGHT} x2=${WIDTH} y2=${HEIGHT} class="axis" />
        ${props.bars.map((b, i) => {
          const h = Math.round((b.value / max) * (HEIGHT - 14));
          return html`<g>
            <rect class="bar" x=${i * step + 2} y=${HEIGHT - h} width=${Math.max(1, step - 4)} height=${h}>
              <title>${b.label}: ${b.value}</title>
            </rect>
            ${b.value ? html`<text x=${i * step + step / 2} y=${HEIGHT - h - 3} class="value">${b.value}</text>` : null}
            ${
            i % every === 0
              ? html`<text x=${i * step + step / 2} y=${HEIGHT + 13} class="tick">${b.label}</text>`
              : null
          }
          </g>`;
        })}
      </svg>
      <figcaption>${props.label}</figcaption>
    </figure>
  `;
}

/** The counts of a verdict chart, largest first; none yet is said in words rather than an empty chart. */
function VerdictChart(props: { label: string; counts: Record<string, number> }) {
  const bars = Object.entries(props.counts).sort(([a, m], [b, n]) => n - m || a.localeCompare(b))
    .map(([label, value]) => ({ label: label || "?", value }));
  return bars.length
    ? html`<${BarChart} label=${props.label} bars=${bars} />`
    : html`<p class="no-verdicts">${props.label}: none yet (no policy check ran).</p>`;
}

const hourLabel = (iso: string) => `${String(new Date(iso).getHours()).padStart(2, "0")}h`;
const pairs = (counts: Record<string, number>) =>
  Object.entries(counts).map(([k, n]) => `${k || "?"}: ${n}`).join(", ") || "none";

export function OverviewView(props: { api: AdminApi }) {
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState("");
  useEffect(() => {
    const load = () => props.api.request<Overview>("GET", "/admin/overview").then(setData, (e) => setError(e.message));
    void load();
    const timer = setInterval(load, 30_000);
    return () => clearInterval(timer);
  }, []);
  if (error) return html`<p class="error" role="alert">${error}</p>`;
  if (!data) return html`<p>Loading…</p>`;
  return html`
    <section class="overview" aria-label="Overview">
      <h2>Overview</h2>
      <div class="charts">
        <${BarChart} label="Messages received per hour (last 24 h)" every=${3} bars=${data.receivedPerHour.map((h) => ({
          label: hourLabel(h.hour),
          value: h.count,
        }))} />
        <${BarChart} label=${`Outbound queue by age (${data.queue.messages} message(s))`} bars=${data.queue.ages.map((
          a,
        ) => ({ label: a.label, value: a.count }))} />
      </div>
      <div class="charts verdicts">
        <${VerdictChart} label="Policy verdicts by action" counts=${data.totals.verdicts.byAction} />
        <${VerdictChart} label="Policy verdicts by check" counts=${data.totals.verdicts.byCheck} />
      </div>
      <dl class="totals">
        <dt>Received since start</dt><dd class="received">${data.totals.received}</dd>
        <dt>Refused (by reply code)</dt><dd class="refused">${pairs(data.totals.refused)}</dd>
        <dt>Deliveries (by result)</dt><dd class="deliveries">${pairs(data.totals.deliveries)}</dd>
      </dl>
      <h3>Latest in the queue</h3>
      ${data.queue.recent.length
        ? html`
          <${Table} label="Latest in the queue" columns=${[
            "Queued",
            "From",
            "To",
            "Status",
            "Attempts",
            "Last reply",
          ]} class="recent">
            ${data.queue.recent.map((r) =>
              html`
                <tr>
                  <td><time datetime=${r.queuedAt}>${new Date(r.queuedAt).toLocaleString()}</time></td>
                  <td>${r.sender || "<>"}</td>
                  <td>${r.recipient}</td>
                  <td>${r.status}</td>
                  <td>${r.attempts}</td>
                  <td class="reply">${r.lastReply ?? ""}</td>
                </tr>
              `
            )}
          </${Table}>
        `
        : html`<p>The queue is empty.</p>`}
    </section>
  `;
}
