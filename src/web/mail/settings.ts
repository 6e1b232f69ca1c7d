/**
 * Settings of the signed-in account: the vacation reply (JMAP VacationResponse, RFC 8621 §8), filters (the account's
 * Sieve scripts through JMAP, RFC 9661: list, edit, create, activate), a new password and API tokens (the webmail's
 * own routes in src/api/web/account.ts; a new password ends every session, this one too), and own aliases
 * (src/web/mail/own-aliases.ts).
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { VACATION_SCRIPT } from "../../sieve/vacation-response.ts";
import { CSRF_HEADER, type Jmap } from "./jmap.ts";
import { OwnAliases } from "./own-aliases.ts";

type SetError = { type: string; description?: string };

/** A UTCDate (RFC 8620 §1.4) as a `datetime-local` input's value, in the browser's time zone; "" for none. */
function localInput(utc: string | null | undefined): string {
  if (!utc) return "";
  const d = new Date(utc);
  const two = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}T${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** A `datetime-local` value as a UTCDate, the fraction of seconds omitted as RFC 8620 §1.4 asks; null for none. */
const utcDate = (local: string): string | null => local ? new Date(local).toISOString().replace(/\.\d+Z$/, "Z") : null;

interface VacationValue {
  isEnabled: boolean;
  subject: string;
  textBody: string;
  /** From and until (RFC 8621 §8: fromDate, toDate), as `datetime-local` values; "" for none. */
  fromDate: string;
  toDate: string;
}
type VacationResponse = {
  isEnabled: boolean;
  subject: string | null;
  textBody: string | null;
  fromDate: string | null;
  toDate: string | null;
};

function Vacation(props: { jmap: Jmap; onError: (m: string) => void }) {
  const [value, setValue] = useState<VacationValue | null>(null);
  const [saved, setSaved] = useState("");
  useEffect(() => {
    props.jmap.call<{ list: VacationResponse[] }>("VacationResponse/get", { ids: ["singleton"] }).then(({ list }) => {
      const v = list[0];
      setValue({
        isEnabled: !!v?.isEnabled,
        subject: v?.subject ?? "",
        textBody: v?.textBody ?? "",
        fromDate: localInput(v?.fromDate),
        toDate: localInput(v?.toDate),
      });
    }, (e) => props.onError(String(e.message)));
  }, []);
  if (!value) return html`<p>Loading…</p>`;
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved("");
    const update = {
      isEnabled: value.isEnabled,
      subject: value.subject || null,
      textBody: value.textBody || null,
      fromDate: utcDate(value.fromDate),
      toDate: utcDate(value.toDate),
    };
    const result = await props.jmap.call<{ notUpdated?: Record<string, SetError> }>("VacationResponse/set", {
      update: { singleton: update },
    }).catch((err) => ({ notUpdated: { singleton: { type: String(err.message) } as SetError } }));
    const failed = result.notUpdated?.singleton;
    if (failed) props.onError(failed.description ?? failed.type);
    else setSaved("Saved.");
  };
  const field = (name: keyof VacationValue) => (e: Event) =>
    setValue({ ...value, [name]: (e.target as HTMLInputElement).value });
  return html`
    <form class="vacation" aria-label="Vacation reply" onSubmit=${save}>
      <h3>Vacation reply</h3>
      <label
        class="check"><input type="checkbox" name="isEnabled" checked=${value.isEnabled} onChange=${(
          e: Event,
        ) => setValue({ ...value, isEnabled: (e.target as HTMLInputElement).checked })} /> Reply automatically</label>
      <div class="inline dates">
        <label>From <input type="datetime-local" name="fromDate" value=${value.fromDate} onInput=${field(
          "fromDate",
        )} /></label>
        <label>Until <input type="datetime-local" name="toDate" value=${value.toDate} onInput=${field(
          "toDate",
        )} /></label>
      </div>
      <label>Subject <input name="subject" value=${value.subject} onInput=${field("subject")} /></label>
      <textarea name="textBody" aria-label="Vacation message" rows="4" value=${value.textBody} onInput=${field(
        "textBody",
      )}></textarea>
      <div class="buttons"><button type="submit" class="primary">Save</button> <span role="status">${saved}</span></div>
    </form>
  `;
}

interface Script {
  id: string;
  name: string;
  isActive: boolean;
  blobId: string;
}

function Filters(props: { jmap: Jmap; onError: (m: string) => void }) {
  const { jmap } = props;
  const [scripts, setScripts] = useState<Script[]>([]);
  const [editing, setEditing] = useState<{ id: string | null; name: string; content: string } | null>(null);
  const [status, setStatus] = useState("");
  const load = () =>
    jmap.call<{ list: Script[] }>("SieveScript/get", {}).then(
      // The vacation reply's own script is managed by VacationResponse above, not edited here.
      ({ list }) => setScripts(list.filter((s) => s.name !== VACATION_SCRIPT)),
      (e) => props.onError(String(e.message)),
    );
  useEffect(() => void load(), []);

  const open = async (s: Script) => {
    const response = await fetch(jmap.downloadUrl(s.blobId, `${s.name}.sieve`, "application/sieve"));
    setEditing({ id: s.id, name: s.name, content: await response.text() });
    setStatus("");
  };
  /** RFC 9661 §2.2: the content is an uploaded blob; a script that does not compile is refused as invalidSieve. */
  const save = async (e: Event) => {
    e.preventDefault();
    if (!editing) return;
    const { blobId } = await jmap.upload(new Blob([editing.content], { type: "application/sieve" }));
    const args = editing.id
      ? { update: { [editing.id]: { blobId, name: editing.name } } }
      : { create: { s: { blobId, name: editing.name } } };
    const result = await jmap.call<{
      created?: Record<string, { id: string }>;
      notCreated?: Record<string, SetError>;
      notUpdated?: Record<string, SetError>;
    }>("SieveScript/set", args);
    const failed = Object.values({ ...result.notCreated, ...result.notUpdated })[0];
    if (failed) return setStatus(`Not saved: ${failed.description ?? failed.type}`);
    setEditing({ ...editing, id: editing.id ?? result.created!.s!.id });
    setStatus("Saved.");
    await load();
  };
  const activate = async (id: string | null) => {
    await jmap.call("SieveScript/set", id ? { onSuccessActivateScript: id } : { onSuccessDeactivateScript: true })
      .catch((err) => props.onError(String(err.message)));
    await load();
  };

  return html`
    <section class="filters" aria-label="Filters">
      <h3>Filters (Sieve)</h3>
      <ul class="scripts">
        ${scripts.map((s) =>
          html`<li key=${s.id}>
            <button class="script" onClick=${() => open(s)}>${s.name}</button>
            ${
            s.isActive
              ? html`<strong class="active">active</strong> <button onClick=${() => activate(null)}>Deactivate</button>`
              : html`<button class="activate" onClick=${() => activate(s.id)}>Activate</button>`
          }
          </li>`
        )}
      </ul>
      <button class="new-script" onClick=${() => {
        setEditing({ id: null, name: "", content: 'require ["fileinto"];\n' });
        setStatus("");
      }}>New filter</button>
      ${editing
        ? html`
          <form class="script-editor" aria-label="Edit filter" onSubmit=${save}>
            <label>Name <input name="name" required value=${editing.name} onInput=${(e: Event) =>
              setEditing({ ...editing, name: (e.target as HTMLInputElement).value })} /></label>
            <textarea name="content" aria-label="Sieve script" rows="10" spellcheck="false" value=${editing.content}
              onInput=${(e: Event) =>
                setEditing({ ...editing, content: (e.target as HTMLTextAreaElement).value })}></textarea>
            <div class="buttons"><button type="submit" class="primary">Save filter</button>
              <span role="status" class="script-status">${status}</span></div>
          </form>
        `
        : null}
    </section>
  `;
}

async function post(path: string, csrf: string, method: string, body?: unknown): Promise<Response> {
  return await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "content-type": "application/json", [CSRF_HEADER]: csrf },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function problemText(response: Response): Promise<string> {
  const problem = await response.json().catch(() => ({})) as { detail?: string };
  return problem.detail ?? `Refused (${response.status})`;
}

function Password(props: { jmap: Jmap; onSignedOut: () => void }) {
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    const password = String(form.get("password"));
    if (password !== String(form.get("repeat"))) return setError("The new passwords differ");
    const response = await post("/mail/account/password", props.jmap.user.csrf, "POST", {
      current: String(form.get("current")),
      password,
    });
    if (response.ok) props.onSignedOut();
    else setError(await problemText(response));
  };
  return html`
    <form class="password" aria-label="Change password" onSubmit=${submit}>
      <h3>Password</h3>
      <label>Current password <input name="current" type="password" autocomplete="current-password" required /></label>
      <label>New password <input name="password" type="password" autocomplete="new-password" minlength="8" required
      /></label>
      <label>New password again <input name="repeat" type="password" autocomplete="new-password" required /></label>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <p class="hint">Changing it signs you out everywhere.</p>
      <button type="submit" class="primary">Change password</button>
    </form>
  `;
}

function Tokens(props: { jmap: Jmap; onError: (m: string) => void }) {
  const csrf = props.jmap.user.csrf;
  const [tokens, setTokens] = useState<Array<{ id: number; name: string; createdAt: string }>>([]);
  const [fresh, setFresh] = useState<{ name: string; token: string } | null>(null);
  const load = async () => {
    const response = await fetch("/mail/account/tokens", { credentials: "same-origin" });
    if (response.ok) setTokens(await response.json());
    else props.onError(await problemText(response));
  };
  useEffect(() => void load(), []);
  const create = async (e: Event) => {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const name = String(new FormData(form).get("name"));
    const response = await post("/mail/account/tokens", csrf, "POST", { name });
    if (!response.ok) return props.onError(await problemText(response));
    setFresh(await response.json());
    form.reset();
    await load();
  };
  const revoke = async (id: number) => {
    const response = await post(`/mail/account/tokens/${id}`, csrf, "DELETE");
    if (!response.ok) props.onError(await problemText(response));
    setFresh(null);
    await load();
  };
  return html`
    <section class="tokens" aria-label="API tokens">
      <h3>API tokens</h3>
      <p class="hint">For JMAP clients and scripts: Authorization: Bearer followed by the token.</p>
      <ul>
        ${tokens.map((t) =>
          html`
            <li
              key=${t.id}><span class="token-name">${t.name}</span> <time datetime=${t.createdAt}>${new Date(
                t.createdAt,
              ).toLocaleDateString()}</time> <button onClick=${() => revoke(t.id)}>Revoke</button></li>
          `
        )}
      </ul>
      ${fresh
        ? html`<p class="notice new-token">Token “${fresh.name}” (shown once): <code>${fresh.token}</code></p>`
        : null}
      <form aria-label="New API token" onSubmit=${create}>
        <label>Name <input name="name" required maxlength="100" /></label>
        <button type="submit">Create token</button>
      </form>
    </section>
  `;
}

export function Settings(props: { jmap: Jmap; onClose: () => void; onSignedOut: () => void }) {
  const [error, setError] = useState("");
  return html`
    <section class="settings" aria-label="Settings">
      <div class="settings-head">
        <h2>Settings</h2>
        <button class="close-settings" onClick=${props.onClose}>Back to mail</button>
      </div>
      ${error
        ? html`<p class="error" role="alert">${error} <button onClick=${() => setError("")}>×</button></p>`
        : null}
      <${Vacation} jmap=${props.jmap} onError=${setError} />
      <${Filters} jmap=${props.jmap} onError=${setError} />
      <${Password} jmap=${props.jmap} onSignedOut=${props.onSignedOut} />
      <${Tokens} jmap=${props.jmap} onError=${setError} />
      <${OwnAliases} jmap=${props.jmap} onError=${setError} />
    </section>
  `;
}
