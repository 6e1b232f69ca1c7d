/**
 * The admin console's Activity section (issue 22): the recent messages accepted, refusals and delivery attempts from
 * the log (`GET /api/v1/activity`), filtered by kind, loaded again on demand.
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import type { AdminApi } from "./api.ts";
import { Table } from "./table.ts";

interface ActivityEvent {
  time: string;
  kind: "accepted" | "refusal" | "delivery";
  queueId: number | null;
  from: string | null;
  to: string | null;
  result: string;
}

const KINDS = { "": "All", accepted: "Accepted", refusal: "Refusals", delivery: "Deliveries" } as const;

export function ActivityView(props: { api: AdminApi }) {
  const [kind, setKind] = useState<keyof typeof KINDS>("");
  const [events, setEvents] = useState<ActivityEvent[] | null>(null);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  useEffect(() => {
    setError("");
    props.api.request<ActivityEvent[]>("GET", `/activity?limit=200${kind ? `&kind=${kind}` : ""}`)
      .then(setEvents, (e) => setError(String(e.message)));
  }, [kind, tick]);
  return html`
    <section class="activity" aria-label="Recent activity">
      <div class="inline">
        <label>Show <select aria-label="Kind" value=${kind} onChange=${(e: Event) =>
          setKind((e.target as HTMLSelectElement).value as keyof typeof KINDS)}>
          ${Object.entries(KINDS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
        </select></label>
        <button class="primary refresh" onClick=${() => setTick((t) => t + 1)}>Refresh</button>
        <span>${events ? `${events.length} event(s), newest first` : ""}</span>
      </div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${events && !events.length ? html`<p>Nothing yet since the server started.</p>` : null}
      <${Table} label="Recent activity" class="recent" columns=${["Time", "Kind", "Queue id", "From", "To", "Result"]}>
        ${(events ?? []).map((e) =>
          html`
            <tr class=${`activity-${e.kind}`}>
              <td><time datetime=${e.time}>${new Date(e.time).toLocaleString()}</time></td>
              <td><span class=${`badge ${e.kind === "refusal" ? "error" : e.kind === "accepted" ? "ok" : ""}`}>${e
                .kind}</span></td>
              <td>${e.queueId ?? ""}</td>
              <td>${e.from ?? ""}</td>
              <td>${e.to ?? ""}</td>
              <td class="reply">${e.result}</td>
            </tr>
          `
        )}
      </${Table}>
    </section>
  `;
}
