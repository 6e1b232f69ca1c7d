/**
 * A domain's DKIM keys and DNS check in the admin console: each key with the TXT record to publish (made here as
 * `postern dkim generate` makes it: the first key signs at once, another waits for Activate), and the result of
 * `postern dns check` for every record the domain should have.
 */
import { html } from "htm/preact";
import { Table } from "./table.ts";
import { useEffect, useState } from "preact/hooks";
import type { AdminApi } from "./api.ts";

interface DkimKey {
  selector: string;
  active: boolean;
  source: "dataDir" | "config";
  name: string;
  line: string;
}

interface CheckRow {
  name: string;
  type: string;
  purpose: string;
  status: "ok" | "missing" | "wrong" | "error";
  detail: string | null;
  line: string;
}

const LABEL: Record<CheckRow["status"], string> = { ok: "ok", missing: "missing", wrong: "wrong", error: "error" };

export function DkimKeys(props: { api: AdminApi; domain: string }) {
  const { api, domain } = props;
  const path = `/admin/dkim/${encodeURIComponent(domain)}`;
  const [keys, setKeys] = useState<DkimKey[] | null>(null);
  const [error, setError] = useState("");
  const load = () =>
    api.request<{ keys: DkimKey[] }>("GET", path).then((r) => setKeys(r.keys), (e) => setError(e.message));
  useEffect(() => void load(), [domain]);
  const run = async (fn: () => Promise<unknown>) => {
    setError("");
    try {
      await fn();
    } catch (e) {
      setError(String((e as Error).message));
    }
    await load();
  };
  const generate = (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const selector = String(new FormData(form).get("selector") ?? "").trim();
    form.reset();
    return run(() => api.request("POST", path, selector ? { selector } : {}));
  };
  return html`
    <section class="dkim" aria-label=${`DKIM keys of ${domain}`}>
      <h3>DKIM keys</h3>
      ${keys && !keys.length ? html`<p>No key yet: mail from ${domain} is not signed.</p>` : null}
      <ul>
        ${(keys ?? []).map((k) =>
          html`<li key=${k.selector} class="dkim-key">
            <strong>${k.selector}</strong> ${
            k.active
              ? html`<span class="badge ok">signs</span>`
              : k.source === "dataDir"
              ? html`<button onClick=${() =>
                run(() => api.request("POST", `${path}/${encodeURIComponent(k.selector)}/activate`))}>Activate</button>`
              : null
          }
            <pre>${k.line}</pre>
          </li>`
        )}
      </ul>
      <form class="inline" aria-label="Generate a DKIM key" onSubmit=${generate}>
        <label>Selector <input name="selector" placeholder=${`postern${new Date().getUTCFullYear()}`} /></label>
        <button type="submit">Generate key</button>
      </form>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
    </section>
  `;
}

export function DnsCheck(props: { api: AdminApi; domain: string }) {
  const [rows, setRows] = useState<CheckRow[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const check = async () => {
    setBusy(true);
    setError("");
    try {
      const r = await props.api.request<{ results: CheckRow[] }>(
        "GET",
        `/admin/dns/${encodeURIComponent(props.domain)}/check`,
      );
      setRows(r.results);
    } catch (e) {
      setError(String((e as Error).message));
    } finally {
      setBusy(false);
    }
  };
  return html`
    <section class="dns-check" aria-label=${`DNS check of ${props.domain}`}>
      <div class="inline"><h3>DNS check</h3>
        <button class="run-check" disabled=${busy} onClick=${check}>${busy ? "Checking…" : "Check now"}</button></div>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      ${rows
        ? html`
          <${Table} label="DNS check results" columns=${["Status", "Record", "For", "Found"]}>
            ${rows.map((r) =>
              html`
                <tr class=${`check-${r.status}`}>
                  <td><span class=${`badge ${r.status}`}>${LABEL[r.status]}</span></td>
                  <td>${r.name} ${r.type}</td>
                  <td>${r.purpose}</td>
                  <td>${r.detail ?? ""}</td>
                </tr>
              `
            )}
          </${Table}>
          <p class="hint">${rows.filter((r) => r.status !== "ok").length} of ${rows
            .length} record(s) missing or wrong.</p>
        `
        : null}
    </section>
  `;
}
