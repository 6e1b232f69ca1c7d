/**
 * Writing a message: recipients, subject, text and attachments (uploaded as blobs when chosen), sent through JMAP
 * EmailSubmission (RFC 8621 §7.5): the draft is created in Drafts and, once sent, moved to Sent without $draft.
 */
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { Icon } from "../icons.ts";
import type { Jmap } from "./jmap.ts";
import type { Draft, Mailbox } from "./types.ts";

interface Attachment {
  blobId: string;
  name: string;
  type: string;
  size: number;
}

/** "Kim <kim@example.test>, jo@example.test" → JMAP EmailAddress objects. */
export function parseAddresses(text: string): Array<{ name: string | null; email: string }> {
  return text.split(/[,;]/).map((part) => part.trim()).filter(Boolean).map((part) => {
    const m = /^(.*?)\s*<([^>]+)>$/.exec(part);
    return m ? { name: m[1]!.replace(/^"|"$/g, "") || null, email: m[2]!.trim() } : { name: null, email: part };
  });
}

export async function sendMessage(jmap: Jmap, mailboxes: Mailbox[], draft: Draft, attachments: Attachment[]) {
  const drafts = mailboxes.find((m) => m.role === "drafts");
  const sent = mailboxes.find((m) => m.role === "sent");
  if (!drafts || !sent) throw new Error("This account has no Drafts or Sent mailbox");
  const { list: identities } = await jmap.call<{ list: Array<{ id: string; name: string; email: string }> }>(
    "Identity/get",
    {},
  );
  const identity = identities.find((i) => i.email === jmap.user.address) ?? identities[0];
  if (!identity) throw new Error("This account has no identity to send from");
  const text = { partId: "text", type: "text/plain" };
  const email: Record<string, unknown> = {
    mailboxIds: { [drafts.id]: true },
    keywords: { $draft: true, $seen: true },
    from: [{ name: identity.name || null, email: identity.email }],
    to: parseAddresses(draft.to),
    subject: draft.subject,
    bodyValues: { text: { value: draft.text } },
    ...(draft.cc.trim() ? { cc: parseAddresses(draft.cc) } : {}),
    ...(draft.inReplyTo?.length ? { inReplyTo: draft.inReplyTo } : {}),
    ...(draft.references?.length ? { references: draft.references } : {}),
  };
  if (attachments.length) {
    email.bodyStructure = {
      type: "multipart/mixed",
      subParts: [
        text,
        ...attachments.map((a) => ({ blobId: a.blobId, type: a.type, name: a.name, disposition: "attachment" })),
      ],
    };
  } else {
    email.textBody = [text];
  }
  const responses = await jmap.request([
    ["Email/set", { create: { draft: email } }, "0"],
    ["EmailSubmission/set", {
      create: { send: { identityId: identity.id, emailId: "#draft" } },
      onSuccessUpdateEmail: {
        "#send": { [`mailboxIds/${drafts.id}`]: null, [`mailboxIds/${sent.id}`]: true, "keywords/$draft": null },
      },
    }, "1"],
  ]);
  const created = responses[0]![1] as { notCreated?: Record<string, { description?: string; type: string }> };
  const failed = created.notCreated?.draft;
  if (failed) throw new Error(failed.description ?? failed.type);
  const submitted = responses[1]![1] as { notCreated?: Record<string, { description?: string; type: string }> };
  const refused = submitted.notCreated?.send;
  if (refused) throw new Error(refused.description ?? refused.type);
}

export function Compose(props: { jmap: Jmap; mailboxes: Mailbox[]; initial: Draft; onDone: (sent: boolean) => void }) {
  const [draft, setDraft] = useState<Draft>(props.initial);
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const field = (key: keyof Draft) => (e: Event) =>
    setDraft({ ...draft, [key]: (e.target as HTMLInputElement | HTMLTextAreaElement).value });

  const attach = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    setBusy(true);
    try {
      for (const file of files) {
        const uploaded = await props.jmap.upload(file);
        const type = file.type || "application/octet-stream";
        setAttachments((list) => [...list, { blobId: uploaded.blobId, name: file.name, type, size: file.size }]);
      }
    } catch (err) {
      setError(String((err as Error).message));
    } finally {
      setBusy(false);
    }
  };
  const send = async (e: Event) => {
    e.preventDefault();
    if (!parseAddresses(draft.to).length) return setError("Add at least one recipient");
    setBusy(true);
    setError("");
    try {
      await sendMessage(props.jmap, props.mailboxes, draft, attachments);
      props.onDone(true);
    } catch (err) {
      setError(String((err as Error).message));
      setBusy(false);
    }
  };

  return html`
    <form class="compose" aria-label="New message" onSubmit=${send}>
      <h2>New message</h2>
      <label>To <input name="to" type="text" autocomplete="email" value=${draft.to} onInput=${field(
        "to",
      )} required /></label>
      <label>Cc <input name="cc" type="text" value=${draft.cc} onInput=${field("cc")} /></label>
      <label>Subject <input name="subject" type="text" value=${draft.subject} onInput=${field("subject")} /></label>
      <textarea name="text" aria-label="Message text" rows="14" value=${draft.text} onInput=${field("text")}></textarea>
      <label class="attach">Attach files <input name="files" type="file" multiple onChange=${attach} /></label>
      <ul class="attachments">
        ${attachments.map((a, i) =>
          html`<li><${Icon} name="attachment" /> ${a.name} <button type="button" aria-label=${`Remove ${a.name}`} onClick=${() =>
            setAttachments(attachments.filter((_, j) => j !== i))}>×</button></li>`
        )}
      </ul>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="buttons">
        <button type="submit" class="primary" disabled=${busy}>Send</button>
        <button type="button" onClick=${() => props.onDone(false)}>Discard</button>
      </div>
    </form>
  `;
}
