/**
 * What a message shows below its toolbar: the headers, the attachments (downloadable; an attached message previewed
 * in place), the remote-images notice and the body — plain text, or HTML sanitised into a sandboxed frame. Used for
 * a stored message (the reader) and for an attached one read through JMAP Email/parse (RFC 8621 §4.9), which gets
 * the same sanitising and the same blocked images.
 */
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { Icon } from "../icons.ts";
import type { Jmap } from "./jmap.ts";
import { sanitizeMessageHtml } from "./sanitize.ts";
import { type BodyPart, type EmailFull, formatAddresses } from "./types.ts";

/** What Email/get and Email/parse are asked for to show a message. */
export const BODY_PROPERTIES = [
  "from",
  "to",
  "cc",
  "replyTo",
  "subject",
  "sentAt",
  "messageId",
  "references",
  "inReplyTo",
  "preview",
  "hasAttachment",
  "textBody",
  "htmlBody",
  "attachments",
  "bodyValues",
];

export const BODY_VALUES = { fetchTextBodyValues: true, fetchHTMLBodyValues: true, maxBodyValueBytes: 2_000_000 };

/** The part of an email the body shows: a parsed one has no id, keywords, mailboxes or receivedAt. */
export type ShownEmail = Pick<EmailFull, "from" | "to" | "cc" | "subject" | "sentAt" | "textBody" | "htmlBody"> & {
  attachments: BodyPart[];
  bodyValues: EmailFull["bodyValues"];
  receivedAt?: string | null;
};

/** An attached message (RFC 2046 §5.2.1 message/rfc822), or a file named .eml sent with a generic type. */
export const isAttachedMessage = (a: BodyPart) =>
  a.type.toLowerCase() === "message/rfc822" ||
  (/\.eml$/i.test(a.name ?? "") && /^(application\/octet-stream|text\/plain)$/i.test(a.type));

export function plainText(email: ShownEmail): string {
  return email.textBody.map((p) => (p.partId && email.bodyValues[p.partId]?.value) ?? "").join("\n");
}

export function MessageBody(props: { jmap: Jmap; email: ShownEmail; onError: (message: string) => void }) {
  const { jmap, email } = props;
  // Remote images load only when asked, for this message only (a new message starts blocked again).
  const [showImages, setShowImages] = useState(false);
  const [previewing, setPreviewing] = useState<string | null>(null);
  const htmlPart = email.htmlBody.find((p) => p.type === "text/html" && p.partId && email.bodyValues[p.partId]);
  const safe = htmlPart ? sanitizeMessageHtml(email.bodyValues[htmlPart.partId!]!.value, showImages) : null;
  const date = email.sentAt ?? email.receivedAt;
  const attachments = email.attachments.filter((a) => a.blobId);
  return html`
    <h2 class="subject">${email.subject || "(no subject)"}</h2>
    <dl class="headers">
      <dt>From</dt><dd class="from">${formatAddresses(email.from)}</dd>
      <dt>To</dt><dd>${formatAddresses(email.to)}</dd>
      ${email.cc?.length
        ? html`
          <dt>Cc</dt>
          <dd>${formatAddresses(email.cc)}</dd>
        `
        : null}
      ${date
        ? html`
          <dt>Date</dt>
          <dd><time datetime=${date}>${new Date(date).toLocaleString()}</time></dd>
        `
        : null}
    </dl>
    ${attachments.length
      ? html`
        <ul class="attachments" aria-label="Attachments">
          ${attachments.map((a) =>
            html`<li><a download=${a.name ?? "attachment"} href=${
              jmap.downloadUrl(a.blobId!, a.name ?? "attachment", a.type)
            }><${Icon} name="attachment" /> ${a.name ?? "attachment"}</a> <span class="size">${
              formatSize(a.size)
            }</span>${
              isAttachedMessage(a)
                ? html`
                  <button class="preview-message" aria-expanded=${previewing === a.blobId} onClick=${() =>
                    setPreviewing(previewing === a.blobId ? null : a.blobId)}>${previewing === a.blobId
                    ? "Close"
                    : "Open"}</button>
                `
                : null
            }</li>`
          )}
        </ul>
      `
      : null}
    ${previewing
      ? html`<${AttachedMessage} key=${previewing} jmap=${jmap} blobId=${previewing} onError=${props.onError} />`
      : null}
    ${safe && safe.blockedImages > 0 && !showImages
      ? html`<p class="notice blocked-images">${safe.blockedImages} remote image(s) blocked. <button
          class="show-images" onClick=${() => setShowImages(true)}>Show images</button></p>`
      : null}
    ${safe
      ? html`
        <iframe class="body-html" title="Message body" sandbox="allow-popups allow-popups-to-escape-sandbox"
          referrerpolicy="no-referrer" srcdoc=${safe.document}></iframe>
      `
      : html`<pre class="body-text">${plainText(email)}</pre>`}
  `;
}

/** An attached message read with Email/parse (nothing is stored) and shown like any message, inside the reader. */
function AttachedMessage(props: { jmap: Jmap; blobId: string; onError: (message: string) => void }) {
  const [email, setEmail] = useState<ShownEmail | null | undefined>(undefined);
  useEffect(() => {
    let live = true;
    props.jmap.call<{ parsed: Record<string, ShownEmail> | null }>("Email/parse", {
      blobIds: [props.blobId],
      properties: BODY_PROPERTIES,
      ...BODY_VALUES,
    }).then((result) => live && setEmail(result.parsed?.[props.blobId] ?? null), (e) => {
      if (live) setEmail(null);
      props.onError(String(e.message ?? e));
    });
    return () => {
      live = false;
    };
  }, [props.blobId]);
  if (email === undefined) return html`<section class="attached-message" aria-busy="true">Loading…</section>`;
  if (email === null) {
    return html`
      <section class="attached-message">
        <p class="notice">This attachment is not a readable message.</p>
      </section>
    `;
  }
  return html`
    <section class="attached-message" aria-label="Attached message">
      <${MessageBody} jmap=${props.jmap} email=${email} onError=${props.onError} />
    </section>
  `;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
