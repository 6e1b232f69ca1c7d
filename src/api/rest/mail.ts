/**
 * REST access to an account's mail: mailboxes with counts, messages newest first with cursor
 * pagination and filters, one message as parsed JSON, and the raw message. A message id is the
 * store's email id (the JMAP and IMAP EMAILID identity): it stays the same when the message moves.
 */
import PostalMime from "postal-mime";
import * as v from "valibot";
import type { EmailView } from "../../store/emails.ts";
import type { MessageWithSummary } from "../../store/messages.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import type { RouteRegistry } from "./registry.ts";

const Mailbox = v.object({
  id: v.number(),
  name: v.string(),
  role: v.nullable(v.string()),
  total: v.number(),
  unread: v.number(),
});
const Address = v.object({ name: v.nullable(v.string()), email: v.string() });
/** What every message view says, wherever the message is listed from. */
const messageFields = {
  id: v.number(),
  mailboxId: v.number(),
  flags: v.array(v.string()),
  size: v.number(),
  receivedAt: v.string(),
  subject: v.nullable(v.string()),
  from: v.array(Address),
  to: v.array(Address),
  sentAt: v.nullable(v.string()),
  preview: v.string(),
  hasAttachment: v.boolean(),
};
/** A message of one mailbox's list, with its UID there. */
const MessageListItem = v.object({ ...messageFields, uid: v.number() });
const MessagePage = v.object({ messages: v.array(MessageListItem), nextCursor: v.nullable(v.string()) });
/** One message wherever it is: every mailbox holding it (`mailboxId` is the first of them), no UID. */
const MessageItem = v.object({ ...messageFields, mailboxIds: v.array(v.number()) });
const boolParam = v.optional(v.pipe(v.picklist(["true", "false"]), v.transform((s) => s === "true")));

/** A message of one mailbox's list. */
function listItem(mailboxId: number, row: MessageWithSummary): v.InferOutput<typeof MessageListItem> {
  const s = row.summary;
  return {
    id: row.emailId,
    mailboxId,
    uid: row.uid,
    flags: row.flags,
    size: row.size,
    receivedAt: row.internalDate.toISOString(),
    subject: s.subject,
    from: s.from,
    to: s.to,
    sentAt: s.sentAt === null ? null : new Date(s.sentAt).toISOString(),
    preview: s.preview,
    hasAttachment: s.hasAttachment,
  };
}

function messageItem(email: EmailView): v.InferOutput<typeof MessageItem> {
  const s = email.summary;
  return {
    id: email.id,
    mailboxId: email.mailboxIds[0]!,
    mailboxIds: email.mailboxIds,
    flags: email.flags,
    size: email.size,
    receivedAt: email.receivedAt.toISOString(),
    subject: email.subject,
    from: s.from,
    to: s.to,
    sentAt: email.sentAt ? email.sentAt.toISOString() : null,
    preview: s.preview,
    hasAttachment: s.hasAttachment,
  };
}

export function mailRoutes(routes: RouteRegistry, store: Store): void {
  const account = async (address: string) => store.accounts.get(address);
  const owned = async (address: string, id: number) => {
    const a = await account(address);
    if (!a) return null;
    const [email] = await store.emails.get(a.id, [id]);
    return email ? { account: a, email } : null;
  };

  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}/mailboxes",
    tag: "mail",
    summary: "List an account's mailboxes with counts",
    params: v.object({ address: v.string() }),
    response: { status: 200, schema: v.array(Mailbox) },
    handler: async (c, { params }) => {
      const a = await account(params.address);
      if (!a) return problem(c, 404, "not-found", `No account ${params.address}`);
      const counts = await store.mailboxes.counts(a.id);
      return c.json(
        (await store.mailboxes.list(a.id)).map((b) => ({
          id: b.id,
          name: b.name,
          role: b.role,
          total: counts.get(b.id)?.total ?? 0,
          unread: counts.get(b.id)?.unread ?? 0,
        })),
      );
    },
  });

  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}/messages",
    tag: "mail",
    summary: "List messages, newest first, with cursor pagination and filters",
    params: v.object({ address: v.string() }),
    query: v.object({
      mailbox: v.optional(v.string(), "INBOX"),
      limit: v.optional(
        v.pipe(v.string(), v.regex(/^\d+$/, "must be a number"), v.transform(Number), v.minValue(1), v.maxValue(500)),
        "50",
      ),
      cursor: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, "must be a cursor from a previous page"))),
      unread: boolParam,
      flagged: boolParam,
      subject: v.optional(v.string()),
      from: v.optional(v.string()),
      /** Subject or preview contains this. */
      text: v.optional(v.string()),
      /** ISO dates on the received time: after (inclusive) and before (exclusive). */
      after: v.optional(v.pipe(v.string(), v.isoTimestamp("must be an ISO 8601 timestamp"))),
      before: v.optional(v.pipe(v.string(), v.isoTimestamp("must be an ISO 8601 timestamp"))),
      /** newest (default) or oldest first; the cursor follows the order. */
      order: v.optional(v.picklist(["newest", "oldest"]), "newest"),
    }),
    response: { status: 200, schema: MessagePage },
    handler: async (c, { params, query }) => {
      const a = await account(params.address);
      if (!a) return problem(c, 404, "not-found", `No account ${params.address}`);
      const box = await store.mailboxes.byName(a.id, query.mailbox);
      if (!box) return problem(c, 404, "not-found", `No mailbox ${query.mailbox}`);
      const limit = query.limit as unknown as number;
      const rows = await store.messages.page(box.id, {
        cursor: query.cursor === undefined ? undefined : Number(query.cursor),
        order: query.order,
        after: query.after ? new Date(query.after) : undefined,
        before: query.before ? new Date(query.before) : undefined,
        text: query.text,
        subject: query.subject,
        from: query.from,
        unread: query.unread,
        flagged: query.flagged,
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      return c.json({
        messages: page.map((row) => listItem(box.id, row)),
        nextCursor: rows.length > limit ? String(page.at(-1)!.uid) : null,
      });
    },
  });

  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}/messages/{id}",
    tag: "mail",
    summary: "One message as parsed JSON",
    params: v.object({
      address: v.string(),
      id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a message id"), v.transform(Number)),
    }),
    response: { status: 200 },
    handler: async (c, { params }) => {
      const found = await owned(params.address, params.id);
      if (!found) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const raw = await store.emails.readBlob(found.email.blobHash);
      if (!raw) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const email = await PostalMime.parse(raw);
      return c.json({
        ...messageItem(found.email),
        messageId: email.messageId ?? null,
        cc: email.cc ?? [],
        replyTo: email.replyTo ?? [],
        headers: email.headers.map((h) => ({ name: h.key, value: h.value })),
        text: email.text ?? null,
        html: email.html ?? null,
        attachments: email.attachments.map((att, index) => ({
          index,
          filename: att.filename,
          mimeType: att.mimeType,
          disposition: att.disposition,
          size: typeof att.content === "string" ? att.content.length : att.content.byteLength,
        })),
      });
    },
  });

  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}/messages/{id}/raw",
    tag: "mail",
    summary: "The message as stored (message/rfc822)",
    params: v.object({
      address: v.string(),
      id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a message id"), v.transform(Number)),
    }),
    response: { status: 200, contentType: "message/rfc822" },
    handler: async (c, { params }) => {
      const found = await owned(params.address, params.id);
      const raw = found ? await store.emails.readBlob(found.email.blobHash) : undefined;
      if (!raw) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      return c.body(raw as Uint8Array<ArrayBuffer>, 200, { "content-type": "message/rfc822" });
    },
  });

  const messageParams = v.object({
    address: v.string(),
    id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a message id"), v.transform(Number)),
  });

  routes.add({
    method: "patch",
    path: "/api/v1/accounts/{address}/messages/{id}",
    tag: "mail",
    summary: "Set flags (IMAP flags, e.g. \\Seen) and/or move to another mailbox",
    params: messageParams,
    body: v.strictObject({
      addFlags: v.optional(v.array(v.pipe(v.string(), v.regex(/^\\?[\x21-\x7e]+$/, "must be an IMAP flag")))),
      removeFlags: v.optional(v.array(v.string())),
      mailbox: v.optional(v.string()),
    }),
    response: { status: 200, schema: MessageItem },
    handler: async (c, { params, body }) => {
      const found = await owned(params.address, params.id);
      if (!found) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const target = body.mailbox ? await store.mailboxes.byName(found.account.id, body.mailbox) : undefined;
      if (body.mailbox && !target) {
        return problem(c, 400, "validation", `No mailbox ${body.mailbox}`, [{
          path: "body.mailbox",
          message: "no such mailbox",
        }]);
      }
      // One transaction: flags on every mailbox holding it, then the move; all in the change log.
      const keywords = [
        ...(body.addFlags?.length ? [{ mode: "add" as const, flags: body.addFlags }] : []),
        ...(body.removeFlags?.length ? [{ mode: "remove" as const, flags: body.removeFlags }] : []),
      ];
      const result = await store.mail.updateEmail(found.account.id, found.email.id, {
        keywords,
        ...(target ? { mailboxIds: [target.id] } : {}),
      });
      if (result === "overQuota") return problem(c, 507, "over-quota", `${params.address} is over its quota`);
      const [now] = result === null ? await store.emails.get(found.account.id, [found.email.id]) : [];
      if (!now) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      return c.json(messageItem(now));
    },
  });

  routes.add({
    method: "delete",
    path: "/api/v1/accounts/{address}/messages/{id}",
    tag: "mail",
    summary: "Delete a message (expunge)",
    params: messageParams,
    response: { status: 204 },
    handler: async (c, { params }) => {
      const a = await account(params.address);
      if (!a || !(await store.mail.destroyEmail(a.id, params.id))) {
        return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      }
      return c.body(null, 204);
    },
  });

  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}/messages/{id}/attachments/{index}",
    tag: "mail",
    summary: "One attachment, decoded, with its own content type",
    params: v.object({
      address: v.string(),
      id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a message id"), v.transform(Number)),
      index: v.pipe(v.string(), v.regex(/^\d+$/, "must be an attachment index"), v.transform(Number)),
    }),
    response: { status: 200, contentType: "application/octet-stream" },
    handler: async (c, { params }) => {
      const found = await owned(params.address, params.id);
      const raw = found ? await store.emails.readBlob(found.email.blobHash) : undefined;
      if (!raw) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const email = await PostalMime.parse(raw);
      const attachment = email.attachments[params.index];
      if (!attachment) return problem(c, 404, "not-found", `No attachment ${params.index} in message ${params.id}`);
      const content = typeof attachment.content === "string"
        ? new TextEncoder().encode(attachment.content)
        : new Uint8Array(attachment.content);
      const name = (attachment.filename ?? `attachment-${params.index}`).replace(/["\r\n]/g, "");
      return c.body(content as Uint8Array<ArrayBuffer>, 200, {
        "content-type": attachment.mimeType || "application/octet-stream",
        "content-disposition": `attachment; filename="${name}"`,
      });
    },
  });
}
