/**
 * Reading one message: headers, the text (plain, or HTML sanitised into a sandboxed frame), attachments to download,
 * and the actions on it (reply, flag, unread, move, delete). Opening a message marks it read.
 */
import { html } from "htm/preact";
import { useEffect, useRef, useState } from "preact/hooks";
import type { Jmap } from "./jmap.ts";
import { useKeys } from "./keys.ts";
import { BODY_PROPERTIES, BODY_VALUES, MessageBody, plainText } from "./message-body.ts";
import { Conversation } from "./thread.ts";
import { type Draft, type EmailFull, formatAddresses, type Mailbox, mailboxName } from "./types.ts";

const PROPERTIES = ["id", "threadId", "mailboxIds", "keywords", "receivedAt", ...BODY_PROPERTIES];

export function Reader(props: {
  jmap: Jmap;
  id: string;
  mailboxes: Mailbox[];
  onReply: (draft: Draft) => void;
  onOpen: (id: string) => void;
  onGone: () => void;
  onError: (message: string) => void;
}) {
  const { jmap, id } = props;
  const [email, setEmail] = useState<EmailFull | null>(null);
  useEffect(() => {
    let live = true;
    setEmail(null);
    (async () => {
      const { list } = await jmap.call<{ list: EmailFull[] }>("Email/get", {
        ids: [id],
        properties: PROPERTIES,
        ...BODY_VALUES,
      });
      const found = list[0];
      if (!live) return;
      if (!found) return props.onGone();
      setEmail(found);
      if (!found.keywords.$seen) await jmap.call("Email/set", { update: { [id]: { "keywords/$seen": true } } });
    })().catch((e) => props.onError(String(e.message ?? e)));
    return () => {
      live = false;
    };
  }, [id]);

  const keys = useRef<Record<string, () => void>>({});
  useKeys(() => keys.current);

  if (!email) return html`<article class="reader loading" aria-busy="true">Loading…</article>`;

  const update = async (patch: Record<string, unknown>) => {
    try {
      await jmap.call("Email/set", { update: { [email.id]: patch } });
      const next = { ...email, keywords: { ...email.keywords }, mailboxIds: { ...email.mailboxIds } };
      for (const [path, value] of Object.entries(patch)) {
        if (!path.includes("/")) continue;
        const [kind, key] = path.split("/") as [string, string];
        const target = kind === "keywords" ? next.keywords : next.mailboxIds;
        if (value) target[key] = true;
        else delete target[key];
      }
      setEmail(next);
    } catch (e) {
      props.onError(String((e as Error).message));
    }
  };
  const moveTo = async (mailboxId: string) => {
    const patch: Record<string, unknown> = { mailboxIds: { [mailboxId]: true } };
    await update(patch);
    props.onGone();
  };
  const junk = props.mailboxes.find((m) => m.role === "junk");
  // RFC 8621 §4.1.1 and the IANA keyword registry: $junk marks spam for filters that learn from it.
  const markSpam = async () => {
    if (!junk) return;
    await update({ mailboxIds: { [junk.id]: true }, "keywords/$junk": true, "keywords/$notjunk": null });
    props.onGone();
  };
  const trash = props.mailboxes.find((m) => m.role === "trash");
  const remove = async () => {
    try {
      if (!trash || email.mailboxIds[trash.id]) await jmap.call("Email/set", { destroy: [email.id] });
      else await jmap.call("Email/set", { update: { [email.id]: { mailboxIds: { [trash.id]: true } } } });
      props.onGone();
    } catch (e) {
      props.onError(String((e as Error).message));
    }
  };
  const reply = (all = false) => {
    const to = email.replyTo?.length ? email.replyTo : email.from ?? [];
    // Reply all: everyone else the message went to, in Cc, without this account and without those in To.
    const self = jmap.user.address.toLowerCase();
    const taken = new Set(to.map((a) => a.email.toLowerCase()));
    const cc = all
      ? [...(email.to ?? []), ...(email.cc ?? [])].filter((a) => {
        const key = a.email.toLowerCase();
        if (key === self || taken.has(key)) return false;
        taken.add(key);
        return true;
      })
      : [];
    const quoted = plainText(email).split("\n").map((line) => `> ${line}`).join("\n");
    props.onReply({
      to: formatAddresses(to),
      cc: formatAddresses(cc),
      subject: /^re:/i.test(email.subject ?? "") ? email.subject! : `Re: ${email.subject ?? ""}`,
      text: `\n\n${formatAddresses(email.from)} wrote:\n${quoted}`,
      inReplyTo: email.messageId,
      references: [...(email.references ?? []), ...(email.messageId ?? [])],
    });
  };
  // A forward carries the original's attachments as they are (their blobs, not copies).
  const forward = () =>
    props.onReply({
      to: "",
      cc: "",
      subject: /^fwd?:/i.test(email.subject ?? "") ? email.subject! : `Fwd: ${email.subject ?? ""}`,
      text: [
        "",
        "",
        "---------- Forwarded message ----------",
        `From: ${formatAddresses(email.from)}`,
        `Date: ${new Date(email.sentAt ?? email.receivedAt).toUTCString()}`,
        `Subject: ${email.subject ?? ""}`,
        `To: ${formatAddresses(email.to)}`,
        "",
        plainText(email),
      ].join("\n"),
      references: [...(email.references ?? []), ...(email.messageId ?? [])],
      attachments: email.attachments.filter((a) => a.blobId).map((a) => ({
        blobId: a.blobId!,
        name: a.name ?? "attachment",
        type: a.type,
        size: a.size,
      })),
    });
  // A saved draft opens in the compose form again, which replaces it when it saves.
  const editDraft = () =>
    props.onReply({
      to: formatAddresses(email.to),
      cc: formatAddresses(email.cc),
      subject: email.subject ?? "",
      // Stored with CRLF and a final line break (RFC 5322 §2.3), which each save would add again.
      text: plainText(email).replace(/\r\n/g, "\n").replace(/\n$/, ""),
      inReplyTo: email.inReplyTo,
      references: email.references,
      attachments: email.attachments.filter((a) => a.blobId).map((a) => ({
        blobId: a.blobId!,
        name: a.name ?? "attachment",
        type: a.type,
        size: a.size,
      })),
      draftId: email.id,
    });

  const flagged = !!email.keywords.$flagged;
  const toggleFlag = () => update({ "keywords/$flagged": !flagged || null });
  const markUnread = () => update({ "keywords/$seen": null });
  keys.current = {
    r: () => reply(),
    a: () => reply(true),
    f: forward,
    s: toggleFlag,
    u: markUnread,
    "#": remove,
    "!": markSpam,
  };

  return html`
    <article class="reader" aria-label="Message">
      <div class="toolbar" role="toolbar">
        ${email.keywords.$draft ? html`<button class="edit-draft" onClick=${editDraft}>Edit draft</button>` : null}
        <button class="reply" onClick=${() => reply()}>Reply</button>
        <button class="reply-all" onClick=${() => reply(true)}>Reply all</button>
        <button class="forward" onClick=${forward}>Forward</button>
        <button class="flag" aria-pressed=${flagged} onClick=${toggleFlag}>
          ${flagged ? "Unflag" : "Flag"}
        </button>
        <button onClick=${markUnread}>Mark unread</button>
        <label>Move to <select class="move" onChange=${(e: Event) => moveTo((e.target as HTMLSelectElement).value)}>
          <option value="">…</option>
          ${props.mailboxes.filter((m) => !email.mailboxIds[m.id]).map((m) =>
            html`<option value=${m.id}>${mailboxName(m)}</option>`
          )}
        </select></label>
        ${junk && !email.mailboxIds[junk.id] ? html`<button class="spam" onClick=${markSpam}>Spam</button>` : null}
        <button class="delete" onClick=${remove}>Delete</button>
      </div>
      <${Conversation} jmap=${jmap} threadId=${email.threadId} current=${email.id} onOpen=${props.onOpen} />
      <${MessageBody} jmap=${jmap} email=${email} onError=${props.onError} />
    </article>
  `;
}
