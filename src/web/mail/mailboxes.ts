/**
 * The mailbox list: special-use mailboxes first with their icons, then the rest by name; unread counts. Folders are
 * created and deleted here too.
 */
import { html } from "htm/preact";
import { Icon } from "../icons.ts";
import type { Jmap } from "./jmap.ts";
import { type Mailbox, mailboxName, ROLE_ICONS, ROLE_ORDER } from "./types.ts";

export function sortMailboxes(list: Mailbox[]): Mailbox[] {
  const rank = (m: Mailbox) => m.role && ROLE_ORDER.includes(m.role) ? ROLE_ORDER.indexOf(m.role) : ROLE_ORDER.length;
  return [...list].sort((a, b) => rank(a) - rank(b) || a.sortOrder - b.sortOrder || a.name.localeCompare(b.name));
}

export function MailboxList(
  props: { mailboxes: Mailbox[]; selected: string | null; onSelect: (id: string) => void },
) {
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
