/** The admin console's sections: domains, accounts, aliases and the outbound queue, each a list with a form. */
import { html } from "htm/preact";
import { Table } from "./table.ts";
import { useEffect, useState } from "preact/hooks";
import type { AdminApi } from "./api.ts";
import { DkimKeys, DnsCheck } from "./dkim.ts";

interface Domain {
  name: string;
  kind: "mailbox" | "forward";
}
interface Account {
  address: string;
  displayName: string | null;
  quota: number | null;
  disabled: boolean;
  admin: boolean;
}
interface Alias {
  address: string;
  targets: string[];
  disabled: boolean;
  forwarded: number;
}
interface QueuedMessage {
  id: number;
  sender: string;
  size: number;
  createdAt: string;
  recipients: Array<
    { recipient: string; status: string; attempts: number; nextAttemptAt: string; lastReply: string | null }
  >;
}

/** Loads a list, and reloads it after each change made through `run`. */
function useList<T>(api: AdminApi, path: string) {
  const [list, setList] = useState<T[] | null>(null);
  const [error, setError] = useState("");
  const [tick, setTick] = useState(0);
  useEffect(() => {
    api.request<T[]>("GET", path).then(setList, (e) => setError(String(e.message)));
  }, [tick]);
  const run = async (fn: () => Promise<unknown>) => {
    setError("");
    try {
      await fn();
      setTick((t) => t + 1);
      return true;
    } catch (e) {
      setError(String((e as Error).message));
      return false;
    }
  };
  return { list, error, run };
}

const formValues = (e: Event) => {
  e.preventDefault();
  const form = e.target as HTMLFormElement;
  return { form, values: Object.fromEntries(new FormData(form)) as Record<string, string> };
};

const Error = (props: { text: string }) => props.text ? html`<p class="error" role="alert">${props.text}</p>` : null;

/** The DNS records of one domain as a zone-file fragment, each under a comment saying what it is for. */
function DnsRecords(props: { api: AdminApi; domain: string; onClose: () => void }) {
  const [text, setText] = useState("Loading…");
  useEffect(() => {
    props.api.dnsRecords(props.domain).then(({ records }) => {
      const lines = records.flatMap((r) => [`; ${r.purpose}`, r.line]);
      if (!records.some((r) => r.kind === "address")) {
        lines.unshift("; The host name also needs A/AAAA records with this server's public addresses, and their PTR.");
      }
      setText(lines.join("\n"));
    }, (e) => setText(`; ${e.message}`));
  }, [props.domain]);
  return html`
    <section class="dns" aria-label=${`DNS records of ${props.domain}`}>
      <div class="inline"><h2>DNS records of ${props.domain}</h2><button onClick=${props.onClose}>Close</button></div>
      <pre>${text}</pre>
      <${DkimKeys} api=${props.api} domain=${props.domain} />
      <${DnsCheck} api=${props.api} domain=${props.domain} />
    </section>
  `;
}

export function Domains(props: { api: AdminApi }) {
  const { list, error, run } = useList<Domain>(props.api, "/domains");
  const [dnsOf, setDnsOf] = useState<string | null>(null);
  const add = async (e: Event) => {
    const { form, values } = formValues(e);
    if (await run(() => props.api.request("POST", "/domains", { name: values.name, kind: values.kind }))) form.reset();
  };
  return html`
    <section aria-label="Domains">
      <form class="inline" onSubmit=${add} aria-label="Add a domain">
        <input name="name" placeholder="example.org" aria-label="Domain name" required />
        <select name="kind"
          aria-label="Kind"><option value="mailbox">mailbox</option><option value="forward">forward only</option></select>
        <button class="primary" type="submit">Add domain</button>
      </form>
      <${Error} text=${error} />
      <${Table} label="Domains" columns=${["Domain", "Kind", ""]}>
        ${(list ?? []).map((d) =>
          html`
            <tr key=${d.name}>
              <td>${d.name}</td>
              <td>${d.kind}</td>
              <td class="actions">
                <button onClick=${() => setDnsOf(d.name)}>DNS records</button>
                <button onClick=${() =>
                  run(() => props.api.request("DELETE", `/domains/${encodeURIComponent(d.name)}`))}>Remove</button>
              </td>
            </tr>
          `
        )}
      </${Table}>
      ${dnsOf ? html`<${DnsRecords} api=${props.api} domain=${dnsOf} onClose=${() => setDnsOf(null)} />` : null}
    </section>
  `;
}

export function Accounts(props: { api: AdminApi }) {
  const { list, error, run } = useList<Account>(props.api, "/accounts");
  const add = async (e: Event) => {
    const { form, values } = formValues(e);
    const body = {
      address: values.address,
      password: values.password,
      ...(values.displayName ? { displayName: values.displayName } : {}),
      ...(values.quota ? { quota: Number(values.quota) * 1024 * 1024 } : {}),
    };
    if (await run(() => props.api.request("POST", "/accounts", body))) form.reset();
  };
  const resetPassword = (a: Account) => {
    const password = prompt(`New password for ${a.address} (8 characters or more)`);
    if (password) run(() => props.api.request("PATCH", `/accounts/${encodeURIComponent(a.address)}`, { password }));
  };
  const setAdmin = (a: Account) =>
    run(() => props.api.request("PATCH", `/accounts/${encodeURIComponent(a.address)}`, { admin: !a.admin }));
  return html`
    <section aria-label="Accounts">
      <form class="inline" onSubmit=${add} aria-label="Add an account">
        <input name="address" type="email" placeholder="name@example.org" aria-label="Address" required />
        <input name="password" type="password" placeholder="password (8+ characters)" aria-label="Password" required
          minlength="8" />
        <input name="displayName" placeholder="display name" aria-label="Display name" />
        <input name="quota" type="number" min="0" placeholder="quota MiB" aria-label="Quota in MiB" />
        <button class="primary" type="submit">Add account</button>
      </form>
      <${Error} text=${error} />
      <${Table} label="Accounts" columns=${["Address", "Name", "Quota", "State", ""]}>
        ${(list ?? []).map((a) =>
          html`
            <tr key=${a.address}>
              <td>${a.address}</td>
              <td>${a.displayName ?? ""}</td>
              <td>${a.quota === null ? "none" : `${Math.round(a.quota / 1024 / 1024)} MiB`}</td>
              <td>${a.disabled ? "disabled" : "active"}${a.admin
                ? html`
                  <span class="badge">admin</span>
                `
                : null}</td>
              <td class="actions">
                <button onClick=${() => resetPassword(a)}>Reset password</button>
                <button onClick=${() => setAdmin(a)}>${a.admin ? "Remove admin" : "Make admin"}</button>
              </td>
            </tr>
          `
        )}
      </${Table}>
    </section>
  `;
}

export function Aliases(props: { api: AdminApi }) {
  const { list, error, run } = useList<Alias>(props.api, "/aliases");
  const add = async (e: Event) => {
    const { form, values } = formValues(e);
    const targets = values.targets!.split(/[\s,]+/).filter(Boolean);
    if (await run(() => props.api.request("POST", "/aliases", { address: values.address, targets }))) form.reset();
  };
  return html`
    <section aria-label="Aliases">
      <form class="inline" onSubmit=${add} aria-label="Add an alias">
        <input name="address" placeholder="alias@example.org" aria-label="Alias address" required />
        <input name="targets" placeholder="targets, comma separated" aria-label="Targets" required />
        <button class="primary" type="submit">Add alias</button>
      </form>
      <${Error} text=${error} />
      <${Table} label="Aliases" columns=${["Alias", "Targets", "Forwarded", ""]}>
        ${(list ?? []).map((a) =>
          html`
            <tr key=${a.address}>
              <td>${a.address}</td>
              <td>${a.targets.join(", ")}</td>
              <td>${a.forwarded}</td>
              <td><button onClick=${() =>
                run(() =>
                  props.api.request("DELETE", `/aliases/${encodeURIComponent(a.address)}`)
                )}>Remove</button></td>
            </tr>
          `
        )}
      </${Table}>
    </section>
  `;
}

export function Queue(props: { api: AdminApi }) {
  const { list, error, run } = useList<QueuedMessage>(props.api, "/queue");
  return html`
    <section aria-label="Outbound queue">
      <div class="inline">
        <button class="primary" onClick=${() =>
          run(() => props.api.request("POST", "/queue/retry"))}>Retry all now</button>
        <span>${list ? `${list.length} message(s) waiting` : ""}</span>
      </div>
      <${Error} text=${error} />
      <${Table} label="Queued messages" columns=${["Id", "From", "Recipients", "Queued", ""]}>
        ${(list ?? []).map((m) =>
          html`
            <tr key=${m.id} data-id=${m.id}>
              <td>${m.id}</td>
              <td>${m.sender || "<>"}</td>
              <td>${m.recipients.map((r) =>
                html`<div>${r.recipient}: <strong>${r.status}</strong> (${r.attempts} attempts, next ${
                  new Date(r.nextAttemptAt).toLocaleString()
                })${r.lastReply ? html`<br /><small>${r.lastReply}</small>` : null}</div>`
              )}</td>
              <td>${new Date(m.createdAt).toLocaleString()}</td>
              <td><button onClick=${() =>
                run(() => props.api.request("POST", `/queue/${m.id}/retry`))}>Retry</button></td>
            </tr>
          `
        )}
      </${Table}>
    </section>
  `;
}
