/**
 * The conversation a message belongs to (RFC 8621 §3, Thread/get): every message of the thread in this account,
 * oldest first, whatever mailbox it is in (a reply in Inbox, the message it answers in Sent). Shown above the
 * message when there is more than one; each opens in the reader.
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";
import { type EmailSummary, senderName, shortDate } from "./types.ts";

export function Conversation(props: { jmap: Jmap; threadId: string; current: string; onOpen: (id: string) => void }) {
  const [emails, setEmails] = useState<EmailSummary[]>([]);
  useEffect(() => {
    props.jmap.request([
      ["Thread/get", { ids: [props.threadId] }, "t"],
      ["Email/get", {
        "#ids": { resultOf: "t", name: "Thread/get", path: "/list/*/emailIds" },
        properties: ["id", "from", "subject", "receivedAt", "keywords"],
      }, "g"],
    ]).then(([, got]) => setEmails((got![1] as { list: EmailSummary[] }).list), () => setEmails([]));
  }, [props.threadId]);
  if (emails.length < 2) return null;
  return html`
    <nav class="thread" aria-label="Conversation">
      <h3>Conversation (${emails.length})</h3>
      <ol>
        ${emails.map((e) =>
          html`<li key=${e.id}><button class=${e.id === props.current ? "selected" : ""} aria-current=${
            e.id === props.current ? "true" : undefined
          } onClick=${() => props.onOpen(e.id)}>
            <span class="from">${senderName(e.from)}</span> <span class="subject">${e.subject}</span>
            <time datetime=${e.receivedAt}>${shortDate(e.receivedAt)}</time>
          </button></li>`
        )}
      </ol>
    </nav>
  `;
}
