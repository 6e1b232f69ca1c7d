/**
 * Writing a message: recipients (completed from recent correspondents), subject, text and attachments (uploaded as
 * blobs when chosen, or a forwarded message's own), saved as a draft while typing and sent through JMAP
 * EmailSubmission (RFC 8621 §7.5).
 *
 * Drafts: a JMAP Email is immutable (RFC 8621 §4.6), so each save creates the new version in Drafts with `$draft`
 * and destroys the previous one in the same Email/set; sending destroys the last saved version, and Discard too.
 */
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { Icon } from "../icons.ts";
import { AddressInput, useCorrespondents } from "./addresses.ts";
import type { Jmap } from "./jmap.ts";
import type { Attachment, Draft, Mailbox } from "./types.ts";

/** How long typing must pause before the draft is saved. */
export const DRAFT_SAVE_MS = 1500;

/** "Kim <kim@example.test>, jo@example.test" → JMAP EmailAddress objects. */
export function parseAddresses(text: string): Array<{ name: string | null; email: string }> {
  return text.split(/[,;]/).map((part) => part.trim()).filter(Boolean).map((part) => {
    const m = /^(.*?)\s*<([^>]+)>$/.exec(part);
    return m ? { name: m[1]!.replace(/^"|"$/g, "") || null, email: m[2]!.trim() } : { name: null, email: part };
  });
}

type SetError = { description?: string; type: string };

async function sender(jmap: Jmap) {
  const { list } = await jmap.call<{ list: Array<{ id: string; name: string; email: string }> }>("Identity/get", {});
  const identity = list.find((i) => i.email === jmap.user.address) ?? list[0];
  if (!identity) throw new Error("This account has no identity to send from");
  return identity;
}

/** The Email/set create object of a draft in Drafts (RFC 8621 §4.6). */
function draftEmail(
  draft: Draft,
  attachments: Attachment[],
  from: { name: string; email: string },
  draftsId: string,
): Record<string, unknown> {
  const text = { partId: "text", type: "text/plain" };
  return {
    mailboxIds: { [draftsId]: true },
    keywords: { $draft: true, $seen: true },
    from: [{ name: from.name || null, email: from.email }],
    to: parseAddresses(draft.to),
    subject: draft.subject,
    bodyValues: { text: { value: draft.text } },
    ...(draft.cc.trim() ? { cc: parseAddresses(draft.cc) } : {}),
    ...(draft.inReplyTo?.length ? { inReplyTo: draft.inReplyTo } : {}),
    ...(draft.references?.length ? { references: draft.references } : {}),
    ...(attachments.length
      ? {
        bodyStructure: {
          type: "multipart/mixed",
          subParts: [
            text,
            ...attachments.map((a) => ({ blobId: a.blobId, type: a.type, name: a.name, disposition: "attachment" })),
          ],
        },
      }
      : { textBody: [text] }),
  };
}

function roles(mailboxes: Mailbox[]) {
  const drafts = mailboxes.find((m) => m.role === "drafts");
  const sent = mailboxes.find((m) => m.role === "sent");
  if (!drafts || !sent) throw new Error("This account has no Drafts or Sent mailbox");
  return { drafts, sent };
}

/** Saves the draft, replacing the version `previous` names; returns the new version's id. */
export async function saveDraft(
  jmap: Jmap,
  mailboxes: Mailbox[],
  draft: Draft,
  attachments: Attachment[],
  previous?: string,
): Promise<string> {
  const { drafts } = roles(mailboxes);
  const email = draftEmail(draft, attachments, await sender(jmap), drafts.id);
  const result = await jmap.call<{ created?: Record<string, { id: string }>; notCreated?: Record<string, SetError> }>(
    "Email/set",
    { create: { draft: email }, ...(previous ? { destroy: [previous] } : {}) },
  );
  const failed = result.notCreated?.draft;
  if (failed) throw new Error(failed.description ?? failed.type);
  return result.created!.draft!.id;
}

export async function sendMessage(
  jmap: Jmap,
  mailboxes: Mailbox[],
  draft: Draft,
  attachments: Attachment[],
  previous?: string,
) {
  const { drafts, sent } = roles(mailboxes);
  const identity = await sender(jmap);
  const responses = await jmap.request([
    ["Email/set", {
      create: { draft: draftEmail(draft, attachments, identity, drafts.id) },
      ...(previous ? { destroy: [previous] } : {}),
    }, "0"],
    ["EmailSubmission/set", {
      create: { send: { identityId: identity.id, emailId: "#draft" } },
      onSuccessUpdateEmail: {
        "#send": { [`mailboxIds/${drafts.id}`]: null, [`mailboxIds/${sent.id}`]: true, "keywords/$draft": null },
      },
    }, "1"],
  ]);
  const failed = (responses[0]![1] as { notCreated?: Record<string, SetError> }).notCreated?.draft;
  if (failed) throw new Error(failed.description ?? failed.type);
  const refused = (responses[1]![1] as { notCreated?: Record<string, SetError> }).notCreated?.send;
  if (refused) throw new Error(refused.description ?? refused.type);
}

export function Compose(props: { jmap: Jmap; mailboxes: Mailbox[]; initial: Draft; onDone: (sent: boolean) => void }) {
  const { jmap, mailboxes } = props;
  const [draft, setDraft] = useState<Draft>(props.initial);
  const [attachments, setAttachments] = useState<Attachment[]>(props.initial.attachments ?? []);
  const [touched, setTouched] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [status, setStatus] = useState("");
  const known = useCorrespondents(jmap);
  // The saved version, and the save in progress: saves run one after another, each replacing the last.
  const saved = useRef<{ id?: string; pending: Promise<unknown> }>({
    id: props.initial.draftId,
    pending: Promise.resolve(),
  });
  const save = () => {
    saved.current.pending = saved.current.pending.then(async () => {
      saved.current.id = await saveDraft(jmap, mailboxes, draft, attachments, saved.current.id);
      setStatus(`Draft saved at ${new Date().toLocaleTimeString()}`);
    }).catch((e) => setError(`The draft was not saved: ${(e as Error).message}`));
  };
  useEffect(() => {
    if (!touched || busy) return;
    const timer = setTimeout(save, DRAFT_SAVE_MS);
    return () => clearTimeout(timer);
  }, [draft, attachments, touched, busy]);

  const change = (key: keyof Draft, value: string) => {
    setDraft({ ...draft, [key]: value });
    setTouched(true);
  };
  const field = (key: keyof Draft) => (e: Event) =>
    change(key, (e.target as HTMLInputElement | HTMLTextAreaElement).value);

  const attach = async (e: Event) => {
    const input = e.target as HTMLInputElement;
    const files = [...(input.files ?? [])];
    input.value = "";
    setBusy(true);
    try {
      for (const file of files) {
        const uploaded = await jmap.upload(file);
        const type = file.type || "application/octet-stream";
        setAttachments((list) => [...list, { blobId: uploaded.blobId, name: file.name, type, size: file.size }]);
      }
      setTouched(true);
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
      await saved.current.pending;
      await sendMessage(jmap, mailboxes, draft, attachments, saved.current.id);
      props.onDone(true);
    } catch (err) {
      setError(String((err as Error).message));
      setBusy(false);
    }
  };
  const discard = async () => {
    setBusy(true);
    await saved.current.pending;
    if (saved.current.id) await jmap.call("Email/set", { destroy: [saved.current.id] }).catch(() => {});
    props.onDone(false);
  };

  return html`
    <form class="compose" aria-label="New message" onSubmit=${send}>
      <h2>New message</h2>
      <${AddressInput} name="to" label="To" value=${draft.to} known=${known} required
        onInput=${(v: string) => change("to", v)} />
      <${AddressInput} name="cc" label="Cc" value=${draft.cc} known=${known} onInput=${(v: string) =>
        change("cc", v)} />
      <label>Subject <input name="subject" type="text" value=${draft.subject} onInput=${field("subject")} /></label>
      <textarea name="text" aria-label="Message text" rows="14" value=${draft.text} onInput=${field("text")}></textarea>
      <label class="attach">Attach files <input name="files" type="file" multiple onChange=${attach} /></label>
      <ul class="attachments">
        ${attachments.map((a, i) =>
          html`<li><${Icon} name="attachment" /> ${a.name} <button type="button" aria-label=${`Remove ${a.name}`} onClick=${() => {
            setAttachments(attachments.filter((_, j) => j !== i));
            setTouched(true);
          }}>×</button></li>`
        )}
      </ul>
      ${error ? html`<p class="error" role="alert">${error}</p>` : null}
      <div class="buttons">
        <button type="submit" class="primary" disabled=${busy}>Send</button>
        <button type="button" onClick=${discard}>Discard</button>
        <span class="draft-status" aria-live="polite">${status}</span>
      </div>
    </form>
  `;
}
