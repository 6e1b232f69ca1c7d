/** The admin console (issue 22), served at /admin by src/api/web/: sign in with the admin token, then the sections. */
import { html, render } from "htm/preact";
import { useState } from "preact/hooks";
import { AdminApi } from "./api.ts";
import { OverviewView } from "./overview.ts";
import { Accounts, Aliases, Domains, Queue } from "./views.ts";

const SECTIONS = {
  domains: Domains,
  accounts: Accounts,
  aliases: Aliases,
  queue: Queue,
  overview: OverviewView,
} as const;
type Section = keyof typeof SECTIONS;

function SignIn(props: { onSignedIn: (api: AdminApi) => void }) {
  const [error, setError] = useState("");
  const submit = async (e: Event) => {
    e.preventDefault();
    const token = String(new FormData(e.target as HTMLFormElement).get("token"));
    const result = await AdminApi.signIn(token);
    if (typeof result === "string") setError(result);
    else props.onSignedIn(result);
  };
  return html`
    <main class="sign-in">
      <form onSubmit=${submit} aria-label="Sign in">
        <h1>Postern Admin</h1>
        <label>Admin token <input name="token" type="password" autocomplete="off" required autofocus /></label>
        ${error ? html`<p class="error" role="alert">${error}</p>` : null}
        <button type="submit" class="primary">Sign in</button>
      </form>
    </main>
  `;
}

function App() {
  const [api, setApi] = useState<AdminApi | null>(AdminApi.saved());
  const [section, setSection] = useState<Section>("domains");
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
        <button class="sign-out" onClick=${() => {
          api.signOut();
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
