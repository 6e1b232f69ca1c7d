/**
 * The message list of a mailbox or a search: sender, subject, preview, date, flags, attachment marker, and with
 * conversations collapsed the number of messages in each; a page of PAGE_SIZE at a time, so the list renders as
 * fast at 100,000 messages as at 100 (the server answers the window, the page renders only it).
 */
import { html } from "htm/preact";
import { Icon } from "../icons.ts";
import { DRAG_TYPE } from "./mailboxes.ts";
import { type EmailSummary, senderName, shortDate } from "./types.ts";

export const PAGE_SIZE = 50;

export function MessageList(props: {
  emails: EmailSummary[];
  /** threadId → how many messages the conversation has (empty when not collapsed). */
  threadSizes: Record<string, number>;
  total: number;
  position: number;
  selected: string | null;
  onOpen: (id: string) => void;
  onPage: (position: number) => void;
}) {
  const { emails, total, position } = props;
  return html`
    <section class="messages" aria-label="Messages">
      ${emails.length === 0 ? html`<p class="empty">No messages</p>` : null}
      <ul>
        ${emails.map((e) => {
          const unread = !e.keywords.$seen;
          const classes = ["message", unread ? "unread" : "", e.id === props.selected ? "selected" : ""].join(" ");
          return html`
            <li key=${e.id}>
              <button class=${classes} data-id=${e.id} onClick=${() => props.onOpen(e.id)} draggable="true"
                onDragStart=${(d: DragEvent) => {
                  d.dataTransfer?.setData(DRAG_TYPE, e.id);
                  if (d.dataTransfer) d.dataTransfer.effectAllowed = "move";
                }}>
                <span class="from">${senderName(e.from)}${(props.threadSizes[e.threadId] ?? 1) > 1
                  ? html`
                    <span class="count" aria-label="messages in the conversation">${props
                      .threadSizes[e.threadId]}</span>
                  `
                  : null}</span>
                <span class="flags">
                  ${e.keywords.$flagged
                    ? html`<span class="flagged"><${Icon} name="star" label="Flagged" filled /></span>`
                    : null}
                  ${e.keywords.$answered ? html`<${Icon} name="answered" label="Answered" />` : null}
                  ${e.hasAttachment
                    ? html`<span class="attachment"><${Icon} name="attachment" label="Attachment" /></span>`
                    : null}
                </span>
                <time datetime=${e.receivedAt}>${shortDate(e.receivedAt)}</time>
                <span class="subject">${e.subject || "(no subject)"}</span>
                <span class="preview">${e.preview}</span>
              </button>
            </li>
          `;
        })}
      </ul>
      ${total > PAGE_SIZE
        ? html`
          <div class="pager">
            <button disabled=${position === 0} onClick=${() =>
              props.onPage(Math.max(0, position - PAGE_SIZE))}>Newer</button>
            <span>${position + 1}–${Math.min(total, position + PAGE_SIZE)} of ${total}</span>
            <button disabled=${position + PAGE_SIZE >= total} onClick=${() =>
              props.onPage(position + PAGE_SIZE)}>Older</button>
          </div>
        `
        : null}
    </section>
  `;
}
