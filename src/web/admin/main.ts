/**
 * The admin console (issue 22), served at /admin by src/api/web/: sign in as an account marked admin or with the admin
 * token, then the sections.
 */
import { html, render } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { ActivityView } from "./activity.ts";
import { AdminApi } from "./api.ts";
import { OverviewView } from "./overview.ts";
import { Accounts, Aliases, Domains, Queue } from "./views.ts";

const SECTIONS = {
  domains: Domains,
  accounts: Accounts,
  aliases: Aliases,
  queue: Queue,
  overview: OverviewView,
  activity: ActivityView,
} as const;
type Section = keyof typeof SECTIONS;

/** A sign-in form's fields by name. */
const fields = (e: Event) => {
  e.preventDefault();
  return Object.fromEntries(new FormData(e.target as HTMLFormElement)) as Record<string, string>;
};

function SignIn(props: { onSignedIn: (api: AdminApi) => void }) {
  const [error, setError] = useState("");
  const done = (result: AdminApi | string) => typeof result === "string" ? setError(result) : props.onSignedIn(result);
  const withPassword = async (e: Event) => {
    const { username, password } = fields(e);
    done(await AdminApi.withPassword(username!, password!));
  };
  const withToken = async (e: Event) => done(await AdminApi.withToken(fields(e).token!));
  return html`
    <main class="sign-in">
      <div class="sign-in-forms">
        <h1>Postern Admin</h1>
        <form onSubmit=${withPassword} aria-label="Sign in with an admin account">
          <label>Address <input name="username" type="email" autocomplete="username" required autofocus /></label>
          <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
          <button type="submit" class="primary">Sign in</button>
        </form>
        <form onSubmit=${withToken} aria-label="Sign in with the admin token">
          <label>Or the admin token <input name="token" type="password" autocomplete="off" required /></label>
          <button type="submit">Sign in with the token</button>
        </form>
        ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      </div>
    </main>
  `;
}

function App() {
  // undefined while asking the server whether this browser is signed in.
  const [api, setApi] = useState<AdminApi | null | undefined>(undefined);
  const [section, setSection] = useState<Section>("domains");
  useEffect(() => void AdminApi.saved().then(setApi, () => setApi(null)), []);
  if (api === undefined) {
    return html`
      <main class="sign-in">
        <p>Loading…</p>
      </main>
    `;
  }
  if (!api) return html`<${SignIn} onSignedIn=${setApi} />`;
  const View = SECTIONS[section];
  return html`
    <div class="admin">
      <header class="top">
        <h1>Postern Admin</h1>
        <nav aria-label="Sections">
          ${(Object.keys(SECTIONS) as Section[]).map((s) =>
            html`
              <button class=${s === section ? "tab selected" : "tab"} aria-current=${s === section ? "page" : undefined}
                onClick=${() => setSection(s)}>${s[0]!.toUpperCase() + s.slice(1)}</button>
            `
          )}
        </nav>
        ${api.address ? html`<span class="user">${api.address}</span>` : null}
        <button class="sign-out" onClick=${async () => {
          await api.signOut();
          setApi(null);
        }}>Sign out</button>
      </header>
      <main>
        <${View} key=${section} api=${api} />
      </main>
    </div>
  `;
}

render(html`<${App} />`, document.getElementById("app")!);
