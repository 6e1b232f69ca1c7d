/**
 * The webmail (issue 22): sign-in, then mailboxes, messages and the reader side by side, kept current by the JMAP
 * EventSource; compose in place of the reader. Served at /mail by src/api/web/.
 */
import { html, render } from "htm/preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import { Compose } from "./compose.ts";
import { SHORTCUTS, useKeys } from "./keys.ts";
import { currentUser, Jmap, JmapError, type SignedIn, signIn, signOut } from "./jmap.ts";
import { createFolder, deleteFolder, emptyMailbox, MailboxList, moveEmails, renameFolder } from "./mailboxes.ts";
import { useListWindows } from "./list-windows.ts";
import { MessageList } from "./message-list.ts";
import { Reader } from "./reader.ts";
import { type Search, SearchForm } from "./search-form.ts";
import { Settings } from "./settings.ts";
import { type Draft, type Mailbox, mailboxName } from "./types.ts";

const EMPTY_DRAFT: Draft = { to: "", cc: "", subject: "", text: "" };

function SignIn(props: { onSignedIn: (user: SignedIn) => void }) {
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    setBusy(true);
    const result = await signIn(String(form.get("username")), String(form.get("password")));
    setBusy(false);
    if (typeof result === "string") setError(result);
    else props.onSignedIn(result);
  };
  return html`
    <main class="sign-in">
      <form onSubmit=${submit} aria-label="Sign in">
        <h1>Postern Mail</h1>
        <label>Address <input name="username" type="email" autocomplete="username" required autofocus /></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required /></label>
        ${error ? html`<p class="error" role="alert">${error}</p>` : null}
        <button type="submit" class="primary" disabled=${busy}>Sign in</button>
      </form>
    </main>
  `;
}

function Mail(props: { jmap: Jmap; onSignedOut: () => void }) {
  const { jmap } = props;
  const [mailboxes, setMailboxes] = useState<Mailbox[]>([]);
  const [boxId, setBoxId] = useState<string | null>(null);
  const [search, setSearch] = useState<Search | null>(null);
  const [collapsed, setCollapsed] = useState(true);
  const [openId, setOpenId] = useState<string | null>(null);
  const [composing, setComposing] = useState<Draft | null>(null);
  const [tick, setTick] = useState(0);
  const [error, setError] = useState("");
  const [settings, setSettings] = useState(false);
  // On a phone the folders are a menu, shown on demand (src/web/app.css).
  const [menu, setMenu] = useState(false);

  const fail = useCallback((e: unknown) => {
    if (e instanceof JmapError && e.message === "signed-out") props.onSignedOut();
    else setError(String((e as Error).message ?? e));
  }, []);

  useEffect(() => jmap.watch(() => setTick((t) => t + 1)), []);

  useEffect(() => {
    jmap.call<{ list: Mailbox[] }>("Mailbox/get", {
      properties: ["id", "name", "parentId", "role", "sortOrder", "totalEmails", "unreadEmails"],
    }).then(({ list }) => {
      setMailboxes(list);
      setBoxId((current) => current ?? list.find((m) => m.role === "inbox")?.id ?? list[0]?.id ?? null);
    }, fail);
  }, [tick]);

  const filter = boxId ? { ...search?.condition, inMailbox: boxId } : null;
  const list = useListWindows(jmap, filter, collapsed, tick, fail);

  const selectBox = (id: string) => {
    setMenu(false);
    setSettings(false);
    setBoxId(id);
    setOpenId(null);
    setComposing(null);
  };
  const box = mailboxes.find((m) => m.id === boxId);
  const step = (by: number) => {
    // Among the loaded rows (those in view and around them); the list scrolls to the one opened.
    const positions = [...list.rows.keys()].sort((a, b) => a - b);
    const at = positions.findIndex((p) => list.rows.get(p)!.id === openId);
    const next = list.rows.get(positions[at < 0 ? 0 : Math.min(positions.length - 1, Math.max(0, at + by))]!);
    if (next) {
      setComposing(null);
      setOpenId(next.id);
    }
  };
  useKeys(() => ({
    j: () => step(1),
    k: () => step(-1),
    c: () => {
      setComposing(EMPTY_DRAFT);
      setOpenId(null);
    },
    "/": () => document.querySelector<HTMLInputElement>(".search input")?.focus(),
  }));
  const newFolder = async () => {
    const name = prompt("Name of the new folder")?.trim();
    if (!name) return;
    await createFolder(jmap, name).catch(fail);
    setTick((t) => t + 1);
  };
  const renameBox = async () => {
    if (!box || box.role) return;
    const name = prompt(`New name of the folder ${box.name}`, box.name)?.trim();
    if (!name || name === box.name) return;
    await renameFolder(jmap, box.id, name).catch(fail);
    setTick((t) => t + 1);
  };
  const dropOn = async (emailId: string, mailboxId: string) => {
    if (!boxId) return;
    try {
      await moveEmails(jmap, emailId, boxId, mailboxId, collapsed);
      if (openId === emailId) setOpenId(null);
      setTick((t) => t + 1);
    } catch (e) {
      fail(e);
    }
  };
  const emptyBox = async () => {
    if (!box || !confirm(`Delete every message in ${mailboxName(box)} for good?`)) return;
    try {
      await emptyMailbox(jmap, box.id);
      setOpenId(null);
      setTick((t) => t + 1);
    } catch (e) {
      fail(e);
    }
  };
  const removeFolder = async () => {
    if (!box || box.role || !confirm(`Delete the folder ${box.name}?`)) return;
    try {
      await deleteFolder(jmap, box.id);
      selectBox(mailboxes.find((m) => m.role === "inbox")?.id ?? mailboxes[0]!.id);
      setTick((t) => t + 1);
    } catch (e) {
      fail(e);
    }
  };

  return html`
    <div class=${`mail${openId || composing ? " reading" : ""}${menu ? " menu-open" : ""}`}>
      <header class="top">
        <button class="menu-button" aria-expanded=${menu} aria-controls="folders" onClick=${() =>
          setMenu(!menu)}>Folders</button>
        <h1>Postern Mail</h1>
        <${SearchForm} onSearch=${setSearch} />
        <span class="user">${jmap.user.address}</span>
        <button class="open-settings" onClick=${() => {
          setMenu(false);
          setSettings(true);
        }}>Settings</button>
        <button class="sign-out" onClick=${async () => {
          await signOut(jmap.user);
          props.onSignedOut();
        }}>Sign out</button>
      </header>
      <aside class="side" id="folders" aria-label="Folders">
        <button class="primary compose-button" onClick=${() => {
          setMenu(false);
          setComposing(EMPTY_DRAFT);
          setOpenId(null);
        }}>Compose</button>
        <${MailboxList} mailboxes=${mailboxes} selected=${boxId} onSelect=${selectBox} onDrop=${dropOn} />
        <button class="new-folder" onClick=${newFolder}>New folder</button>
      </aside>
      ${settings
        ? html`
          <main class="settings-pane">
            <${Settings} jmap=${jmap} onClose=${() => setSettings(false)}
              onSignedOut=${props.onSignedOut} />
          </main>
        `
        : html`
          <section class="list-pane" aria-label="Messages">
            <div class="list-head">
              <h2 class="box-title">${search ? `Search: ${search.label}` : box ? mailboxName(box) : ""}</h2>
              <label class="collapse-threads"><input type="checkbox" checked=${collapsed} onChange=${(e: Event) => {
                setCollapsed((e.target as HTMLInputElement).checked);
              }} /> Conversations</label>
              ${box && !box.role && !search
                ? html`
                  <button class="rename-folder" onClick=${renameBox}>Rename</button>
                  <button class="delete-folder" onClick=${removeFolder}>Delete folder</button>
                `
                : null}
              ${box && (box.role === "trash" || box.role === "junk") && !search && box.totalEmails > 0
                ? html`<button class="empty-mailbox" onClick=${emptyBox}>Empty ${mailboxName(box)}</button>`
                : null}
            </div>
            <${MessageList}
              key=${JSON.stringify([boxId, search?.condition, collapsed])}
              rows=${list.rows}
              total=${list.total}
              threadSizes=${collapsed ? list.threadSizes : {}}
              selected=${openId}
              onOpen=${(id: string) => {
                setOpenId(id);
                setComposing(null);
              }}
              onShow=${list.show}
            />
          </section>
          <main class="read-pane">
            ${openId || composing
              ? html`<button class="back" onClick=${() => {
                setOpenId(null);
                setComposing(null);
              }}>Back to the list</button>`
              : null}
            ${error
              ? html`<p class="error" role="alert">${error} <button onClick=${() => setError("")}>×</button></p>`
              : null}
            ${composing
              ? html`<${Compose} jmap=${jmap} mailboxes=${mailboxes} initial=${composing} onDone=${(sent: boolean) => {
                setComposing(null);
                if (sent) setTick((t) => t + 1);
              }} />`
              : openId
              ? html`
                <${Reader} key=${openId} jmap=${jmap} id=${openId} mailboxes=${mailboxes}
                  onReply=${(d: Draft) => setComposing(d)}
                  onOpen=${setOpenId}
                  onGone=${() => setOpenId(null)}
                  onError=${fail} />
              `
              : html`
                <p class="placeholder">Select a message to read it.</p>
                <p class="placeholder keys">Keys: ${SHORTCUTS}</p>
              `}
          </main>
        `}
    </div>
  `;
}

function App() {
  const [jmap, setJmap] = useState<Jmap | null | undefined>(undefined);
  const start = (user: SignedIn | null) => {
    if (!user) return setJmap(null);
    Jmap.open(user).then(setJmap, () => setJmap(null));
  };
  useEffect(() => {
    currentUser().then(start, () => setJmap(null));
  }, []);
  if (jmap === undefined) return html`<p class="loading">Loading…</p>`;
  if (jmap === null) return html`<${SignIn} onSignedIn=${start} />`;
  return html`<${Mail} jmap=${jmap} onSignedOut=${() => setJmap(null)} />`;
}

render(html`<${App} />`, document.getElementById("app")!);
