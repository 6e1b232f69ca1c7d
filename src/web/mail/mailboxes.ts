/**
 * The mailbox list: special-use mailboxes first with their icons, then the rest by name; unread counts. Folders are
 * created, renamed and deleted here too, and each mailbox takes messages dropped on it (drag and drop from the list).
 */
import { html } from "htm/preact";
import { Icon } from "../icons.ts";
import type { Jmap } from "./jmap.ts";
import { type Mailbox, mailboxName, ROLE_ICONS, ROLE_ORDER } from "./types.ts";

export function sortMailboxes(list: Mailbox[]): Mailbox[] {
  const rank = (m: Mailbox) => m.role && ROLE_ORDER.includes(m.role) ? ROLE_ORDER.indexOf(m.role) : ROLE_ORDER.length;
  return [...list].sort((a, b) => rank(a) - rank(b) || a.sortOrder - b.sortOrder || a.name.localeCompare(b.name));
}

/** The drag data type a message row carries: its email id (src/web/mail/message-list.ts). */
export const DRAG_TYPE = "application/x-postern-email";

export function MailboxList(
  props: {
    mailboxes: Mailbox[];
    selected: string | null;
    onSelect: (id: string) => void;
    /** A message row dropped on a mailbox other than the one shown. */
    onDrop: (emailId: string, mailboxId: string) => void;
  },
) {
  // Only a message row is a valid drop, and only on another mailbox (HTML drag and drop: dragover must be cancelled
  // for the drop to happen).
  const accepts = (e: DragEvent, m: Mailbox) => m.id !== props.selected && !!e.dataTransfer?.types.includes(DRAG_TYPE);
  return html`
    <nav class="mailboxes" aria-label="Mailboxes">
      <ul>
        ${sortMailboxes(props.mailboxes).map((m) =>
          html`
            <li key=${m.id}>
              <button
                class=${m.id === props.selected ? "mailbox selected" : "mailbox"}
                data-role=${m.role ?? ""}
                aria-current=${m.id === props.selected ? "true" : undefined}
                onClick=${() => props.onSelect(m.id)}
                onDragOver=${(e: DragEvent) => {
                  if (!accepts(e, m)) return;
                  e.preventDefault();
                  (e.currentTarget as HTMLElement).classList.add("drop-target");
                }}
                onDragLeave=${(e: DragEvent) => (e.currentTarget as HTMLElement).classList.remove("drop-target")}
                onDrop=${(e: DragEvent) => {
                  (e.currentTarget as HTMLElement).classList.remove("drop-target");
                  const id = e.dataTransfer?.getData(DRAG_TYPE);
                  if (!id || !accepts(e, m)) return;
                  e.preventDefault();
                  props.onDrop(id, m.id);
                }}
              >
                <${Icon} name=${(m.role && ROLE_ICONS[m.role]) || "folder"} />
                <span class="name">${mailboxName(m)}</span>
                ${m.unreadEmails > 0 ? html`<span class="unread" aria-label="unread">${m.unreadEmails}</span>` : null}
              </button>
            </li>
          `
        )}
      </ul>
    </nav>
  `;
}

type SetError = { type: string; description?: string };

/** RFC 8621 §2.5: Mailbox/set create; the error's description when the server refuses. */
export async function createFolder(jmap: Jmap, name: string): Promise<void> {
  const result = await jmap.call<{ notCreated?: Record<string, SetError> }>("Mailbox/set", {
    create: { folder: { name, parentId: null } },
  });
  const refused = result.notCreated?.folder;
  if (refused) throw new Error(refused.description ?? refused.type);
}

/** RFC 8621 §2.5: Mailbox/set update of the name; a name taken by a sibling is refused with the server's reason. */
export async function renameFolder(jmap: Jmap, id: string, name: string): Promise<void> {
  const result = await jmap.call<{ notUpdated?: Record<string, SetError> }>("Mailbox/set", {
    update: { [id]: { name } },
  });
  const refused = result.notUpdated?.[id];
  if (refused) throw new Error(refused.description ?? refused.type);
}

/**
 * Moves an email, or with conversations collapsed every email of its thread in `from`, to the mailbox `to`: a patch
 * of the two mailboxIds entries (RFC 8621 §4.6), so any other mailbox the email is in keeps it.
 */
export async function moveEmails(
  jmap: Jmap,
  emailId: string,
  from: string,
  to: string,
  wholeThread: boolean,
): Promise<void> {
  let ids = [emailId];
  if (wholeThread) {
    const [, , got] = await jmap.request([
      ["Email/get", { ids: [emailId], properties: ["threadId"] }, "e"],
      ["Thread/get", { "#ids": { resultOf: "e", name: "Email/get", path: "/list/*/threadId" } }, "t"],
      ["Email/get", {
        "#ids": { resultOf: "t", name: "Thread/get", path: "/list/*/emailIds" },
        properties: ["mailboxIds"],
      }, "m"],
    ]);
    const list = (got![1] as { list: Array<{ id: string; mailboxIds: Record<string, boolean> }> }).list;
    ids = list.filter((e) => e.mailboxIds[from]).map((e) => e.id);
    if (!ids.includes(emailId)) ids.push(emailId);
  }
  const patch = { [`mailboxIds/${from}`]: null, [`mailboxIds/${to}`]: true };
  const result = await jmap.call<{ notUpdated?: Record<string, SetError> }>("Email/set", {
    update: Object.fromEntries(ids.map((id) => [id, patch])),
  });
  const refused = Object.values(result.notUpdated ?? {})[0];
  if (refused) throw new Error(refused.description ?? refused.type);
}

/** RFC 8621 §2.5: a folder that still holds messages is refused (mailboxHasEmail), never emptied silently. */
export async function deleteFolder(jmap: Jmap, id: string): Promise<void> {
  const result = await jmap.call<{ notDestroyed?: Record<string, SetError> }>("Mailbox/set", {
    destroy: [id],
    onDestroyRemoveEmails: false,
  });
  const refused = result.notDestroyed?.[id];
  if (refused?.type === "mailboxHasEmail") {
    throw new Error("The folder is not empty: move or delete its messages first");
  }
  if (refused) throw new Error(refused.description ?? refused.type);
}

/** How many emails Empty Trash handles per Email/set (under the server's maxObjectsInSet). */
const EMPTY_PAGE = 200;

/**
 * Empties a mailbox (Empty Trash, Empty Junk), a page at a time: an email only in it is destroyed, one also in
 * another mailbox only leaves it (a patch of its mailboxIds entry, RFC 8621 §4.6), so the other keeps it.
 */
export async function emptyMailbox(jmap: Jmap, id: string): Promise<void> {
  for (;;) {
    const [, got] = await jmap.request([
      ["Email/query", { filter: { inMailbox: id }, limit: EMPTY_PAGE }, "q"],
      ["Email/get", {
        "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
        properties: ["mailboxIds"],
      }, "g"],
    ]);
    const list = (got![1] as { list: Array<{ id: string; mailboxIds: Record<string, boolean> }> }).list;
    if (list.length === 0) return;
    const elsewhere = list.filter((e) => Object.keys(e.mailboxIds).some((m) => m !== id));
    const result = await jmap.call<{
      notUpdated?: Record<string, SetError>;
      notDestroyed?: Record<string, SetError>;
    }>("Email/set", {
      update: Object.fromEntries(elsewhere.map((e) => [e.id, { [`mailboxIds/${id}`]: null }])),
      destroy: list.filter((e) => !elsewhere.includes(e)).map((e) => e.id),
    });
    // A refusal would bring the same emails back on the next page: stop with the server's reason.
    const refused = Object.values({ ...result.notUpdated, ...result.notDestroyed })[0];
    if (refused) throw new Error(refused.description ?? refused.type);
  }
}
