/**
 * The message list of a mailbox or a search: sender, subject, preview, date, flags, attachment marker, and with
 * conversations collapsed the number of messages in each. Virtual scrolling: the list is as tall as all its rows
 * (ROW_HEIGHT each), and only the rows in view (and a few around them) are in the DOM, so it scrolls as well at
 * 100,000 messages as at 100; the rows come a window at a time (src/web/mail/list-windows.ts). A row not loaded yet
 * is an empty placeholder. Rows drag onto a mailbox in the sidebar to move there.
 */
import { html } from "htm/preact";
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { Icon } from "../icons.ts";
import { DRAG_TYPE } from "./mailboxes.ts";
import { type EmailSummary, senderName, shortDate } from "./types.ts";

/** The height of a row in CSS pixels; app.css gives `.messages li` the same. */
export const ROW_HEIGHT = 76;
/** Rows rendered beyond each edge of the view, so a short scroll shows no gap. */
const OVERSCAN = 8;

export function MessageList(props: {
  rows: Map<number, EmailSummary>;
  total: number;
  /** threadId → how many messages the conversation has (empty when not collapsed). */
  threadSizes: Record<string, number>;
  selected: string | null;
  onOpen: (id: string) => void;
  /** Positions first to last are in view. */
  onShow: (first: number, last: number) => void;
}) {
  const { rows, total } = props;
  const scroller = useRef<HTMLElement>(null);
  const [view, setView] = useState({ top: 0, height: 760 });
  const measure = () => {
    const el = scroller.current;
    if (el) setView({ top: el.scrollTop, height: el.clientHeight });
  };
  useLayoutEffect(() => {
    measure();
    const el = scroller.current;
    if (!el || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(measure);
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  const firstInView = Math.floor(view.top / ROW_HEIGHT);
  const lastInView = Math.min(total - 1, Math.ceil((view.top + view.height) / ROW_HEIGHT) - 1);
  const from = Math.max(0, firstInView - OVERSCAN);
  const to = Math.min(total - 1, lastInView + OVERSCAN);
  useEffect(() => props.onShow(from, Math.max(from, to)), [from, to]);

  // The selected row (opened by a click, or by j/k) is scrolled into view.
  useEffect(() => {
    const el = scroller.current;
    if (!el || !props.selected) return;
    const at = [...rows].find(([, e]) => e.id === props.selected)?.[0];
    if (at === undefined) return;
    if (at * ROW_HEIGHT < el.scrollTop) el.scrollTop = at * ROW_HEIGHT;
    else if ((at + 1) * ROW_HEIGHT > el.scrollTop + el.clientHeight) {
      el.scrollTop = (at + 1) * ROW_HEIGHT - el.clientHeight;
    }
  }, [props.selected]);

  const items = [];
  for (let at = from; at <= to; at++) {
    const e = rows.get(at);
    const style = `top:${at * ROW_HEIGHT}px`;
    if (!e) {
      items.push(html`<li key=${`p${at}`} class="placeholder-row" style=${style} aria-hidden="true"></li>`);
      continue;
    }
    const unread = !e.keywords.$seen;
    const classes = ["message", unread ? "unread" : "", e.id === props.selected ? "selected" : ""].join(" ");
    const size = props.threadSizes[e.threadId] ?? 1;
    items.push(html`
      <li key=${e.id} style=${style} aria-setsize=${total} aria-posinset=${at + 1}>
        <button class=${classes} data-id=${e.id} onClick=${() => props.onOpen(e.id)} draggable="true"
          onDragStart=${(d: DragEvent) => {
            d.dataTransfer?.setData(DRAG_TYPE, e.id);
            if (d.dataTransfer) d.dataTransfer.effectAllowed = "move";
          }}>
          <span class="from">${senderName(e.from)}${size > 1
            ? html`<span class="count" aria-label="messages in the conversation">${size}</span>`
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
    `);
  }
  const page = Math.max(1, lastInView - firstInView);
  const scrollBy = (rowsBy: number) => {
    const el = scroller.current;
    if (el) el.scrollTop = Math.max(0, el.scrollTop + rowsBy * ROW_HEIGHT);
  };
  return html`
    <section class="messages" aria-label="Messages" ref=${scroller} onScroll=${measure}>
      ${total === 0 ? html`<p class="empty">No messages</p>` : null}
      <ul style=${`height:${total * ROW_HEIGHT}px`}>${items}</ul>
    </section>
    ${total > 0
      ? html`
        <div class="pager">
          <button disabled=${firstInView === 0} onClick=${() => scrollBy(-page)}>Newer</button>
          <span>${firstInView + 1}–${lastInView + 1} of ${total}</span>
          <button disabled=${lastInView >= total - 1} onClick=${() => scrollBy(page)}>Older</button>
        </div>
      `
      : null}
  `;
}
