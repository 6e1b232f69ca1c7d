/**
 * REST access to an account's mail: mailboxes with counts, messages newest first with cursor
 * pagination and filters, one message as parsed JSON, and the raw message.
 */
import { and, asc, desc, eq, gt, gte, like, lt, notLike, or, sql } from "drizzle-orm";
import PostalMime from "postal-mime";
import * as v from "valibot";
import type { MessageSummary } from "../../mime/summary.ts";
import { messages } from "../../store/schema.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import type { RouteRegistry } from "./registry.ts";

const Mailbox = v.object({ id: v.number(), name: v.string(), role: v.nullable(v.string()), total: v.number(), unread: v.number() });
const Address = v.object({ name: v.nullable(v.string()), email: v.string() });
const MessageListItem = v.object({
  id: v.number(), mailboxId: v.number(), uid: v.number(), flags: v.array(v.string()), size: v.number(), receivedAt: v.string(),
  subject: v.nullable(v.string()), from: v.array(Address), to: v.array(Address), sentAt: v.nullable(v.string()), preview: v.string(), hasAttachment: v.boolean(),
});
const MessagePage = v.object({ messages: v.array(MessageListItem), nextCursor: v.nullable(v.string()) });
const boolParam = v.optional(v.pipe(v.picklist(["true", "false"]), v.transform((s) => s === "true")));

type Row = typeof messages.$inferSelect;

function listItem(row: Row) {
  const s = row.summary as unknown as MessageSummary;
  return {
    id: row.id, mailboxId: row.mailboxId, uid: row.uid, flags: row.flags, size: row.size, receivedAt: row.internalDate.toISOString(),
    subject: row.subject, from: s.from ?? [], to: s.to ?? [], sentAt: row.sentAt ? row.sentAt.toISOString() : null,
    preview: s.preview ?? "", hasAttachment: s.hasAttachment ?? false,
  };
}

export function mailRoutes(routes: RouteRegistry, store: Store): void {
  const account = async (address: string) => store.accounts.get(address);
  const owned = async (address: string, id: number) => {
    const a = await account(address);
    if (!a) return null;
    const [row] = await store.db.select().from(messages).where(eq(messages.id, id));
    if (!row) return null;
    const boxes = await store.mailboxes.list(a.id);
    return boxes.some((b) => b.id === row.mailboxId) ? row : null;
  };

  routes.add({
    method: "get", path: "/api/v1/accounts/{address}/mailboxes", tag: "mail", summary: "List an account's mailboxes with counts",
    params: v.object({ address: v.string() }),
    response: { status: 200, schema: v.array(Mailbox) },
    handler: async (c, { params }) => {
      const a = await account(params.address);
      if (!a) return problem(c, 404, "not-found", `No account ${params.address}`);
      const counts = await store.db
        .select({ mailboxId: messages.mailboxId, total: sql<number>`count(*)`, unread: sql<number>`sum(${messages.flags} not like '%"\\\\Seen"%')` })
        .from(messages)
        .groupBy(messages.mailboxId);
      const byBox = new Map(counts.map((r) => [r.mailboxId, r]));
      return c.json((await store.mailboxes.list(a.id)).map((b) => ({ id: b.id, name: b.name, role: b.role, total: Number(byBox.get(b.id)?.total ?? 0), unread: Number(byBox.get(b.id)?.unread ?? 0) })));
    },
  });

  routes.add({
    method: "get", path: "/api/v1/accounts/{address}/messages", tag: "mail", summary: "List messages, newest first, with cursor pagination and filters",
    params: v.object({ address: v.string() }),
    query: v.object({
      mailbox: v.optional(v.string(), "INBOX"),
      limit: v.optional(v.pipe(v.string(), v.regex(/^\d+$/, "must be a number"), v.transform(Number), v.minValue(1), v.maxValue(500)), "50"),
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
      const seen = '%"\\\\Seen"%';
      const flaggedFlag = '%"\\\\Flagged"%';
      const where = and(
        eq(messages.mailboxId, box.id),
        query.cursor ? (query.order === "oldest" ? gt(messages.uid, Number(query.cursor)) : lt(messages.uid, Number(query.cursor))) : undefined,
        query.after ? gte(messages.internalDate, new Date(query.after)) : undefined,
        query.before ? lt(messages.internalDate, new Date(query.before)) : undefined,
        query.text ? or(like(messages.subject, `%${query.text}%`), like(sql`json_extract(${messages.summary}, '$.preview')`, `%${query.text}%`)) : undefined,
        query.unread === undefined ? undefined : query.unread ? notLike(messages.flags, seen) : like(messages.flags, seen),
        query.flagged === undefined ? undefined : query.flagged ? like(messages.flags, flaggedFlag) : notLike(messages.flags, flaggedFlag),
        query.subject ? like(messages.subject, `%${query.subject}%`) : undefined,
        query.from ? like(sql`json_extract(${messages.summary}, '$.from')`, `%${query.from}%`) : undefined,
      );
      const limit = query.limit as unknown as number;
      const rows = await store.db.select().from(messages).where(where).orderBy(query.order === "oldest" ? asc(messages.uid) : desc(messages.uid)).limit(limit + 1);
      const page = rows.slice(0, limit);
      return c.json({ messages: page.map(listItem), nextCursor: rows.length > limit ? String(page.at(-1)!.uid) : null });
    },
  });

  routes.add({
    method: "get", path: "/api/v1/accounts/{address}/messages/{id}", tag: "mail", summary: "One message as parsed JSON",
    params: v.object({ address: v.string(), id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a message id"), v.transform(Number)) }),
    response: { status: 200 },
    handler: async (c, { params }) => {
      const row = await owned(params.address, params.id);
      if (!row) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const raw = await store.messages.readBlob(row.blobHash);
      const email = await PostalMime.parse(raw!);
      return c.json({
        ...listItem(row),
        messageId: email.messageId ?? null,
        cc: email.cc ?? [],
        replyTo: email.replyTo ?? [],
        headers: email.headers.map((h) => ({ name: h.key, value: h.value })),
        text: email.text ?? null,
        html: email.html ?? null,
        attachments: email.attachments.map((att, index) => ({ index, filename: att.filename, mimeType: att.mimeType, disposition: att.disposition, size: typeof att.content === "string" ? att.content.length : att.content.byteLength })),
      });
    },
  });

  routes.add({
    method: "get", path: "/api/v1/accounts/{address}/messages/{id}/raw", tag: "mail", summary: "The message as stored (message/rfc822)",
    params: v.object({ address: v.string(), id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a message id"), v.transform(Number)) }),
    response: { status: 200, contentType: "message/rfc822" },
    handler: async (c, { params }) => {
      const row = await owned(params.address, params.id);
      if (!row) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const raw = await store.messages.readBlob(row.blobHash);
      return c.body(raw! as Uint8Array<ArrayBuffer>, 200, { "content-type": "message/rfc822" });
    },
  });

  const messageParams = v.object({ address: v.string(), id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a message id"), v.transform(Number)) });

  routes.add({
    method: "patch", path: "/api/v1/accounts/{address}/messages/{id}", tag: "mail", summary: "Set flags (IMAP flags, e.g. \\Seen) and/or move to another mailbox",
    params: messageParams,
    body: v.strictObject({
      addFlags: v.optional(v.array(v.pipe(v.string(), v.regex(/^\\?[\x21-\x7e]+$/, "must be an IMAP flag")))),
      removeFlags: v.optional(v.array(v.string())),
      mailbox: v.optional(v.string()),
    }),
    response: { status: 200, schema: MessageListItem },
    handler: async (c, { params, body }) => {
      const row = await owned(params.address, params.id);
      if (!row) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const a = (await account(params.address))!;
      const target = body.mailbox ? await store.mailboxes.byName(a.id, body.mailbox) : undefined;
      if (body.mailbox && !target) return problem(c, 400, "validation", `No mailbox ${body.mailbox}`, [{ path: "body.mailbox", message: "no such mailbox" }]);
      // One transaction: flags, then the move (copy + expunge), all in the change log.
      const movedTo = await store.write(async (tx) => {
        if (body.addFlags?.length) await store.messages.storeFlags(tx, row.mailboxId, [row.uid], "add", body.addFlags, null);
        if (body.removeFlags?.length) await store.messages.storeFlags(tx, row.mailboxId, [row.uid], "remove", body.removeFlags, null);
        if (!target || target.id === row.mailboxId) return null;
        const copied = await store.messages.copy(tx, row.mailboxId, [row.uid], target.id);
        await store.messages.expunge(tx, row.mailboxId, [row.uid]);
        return copied.last;
      });
      store.changes.publish({ accountId: a.id, mailboxIds: [row.mailboxId, ...(target ? [target.id] : [])], modseq: 0 });
      const [now] = await store.db.select().from(messages).where(eq(messages.id, movedTo?.id ?? row.id));
      return c.json(listItem(now!));
    },
  });

  routes.add({
    method: "delete", path: "/api/v1/accounts/{address}/messages/{id}", tag: "mail", summary: "Delete a message (expunge)",
    params: messageParams,
    response: { status: 204 },
    handler: async (c, { params }) => {
      const row = await owned(params.address, params.id);
      if (!row) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const result = await store.write((tx) => store.messages.expunge(tx, row.mailboxId, [row.uid]));
      if (result) store.changes.publish({ accountId: result.accountId, mailboxIds: [row.mailboxId], modseq: result.modseq });
      return c.body(null, 204);
    },
  });

  routes.add({
    method: "get", path: "/api/v1/accounts/{address}/messages/{id}/attachments/{index}", tag: "mail", summary: "One attachment, decoded, with its own content type",
    params: v.object({
      address: v.string(),
      id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a message id"), v.transform(Number)),
      index: v.pipe(v.string(), v.regex(/^\d+$/, "must be an attachment index"), v.transform(Number)),
    }),
    response: { status: 200, contentType: "application/octet-stream" },
    handler: async (c, { params }) => {
      const row = await owned(params.address, params.id);
      if (!row) return problem(c, 404, "not-found", `No message ${params.id} for ${params.address}`);
      const email = await PostalMime.parse((await store.messages.readBlob(row.blobHash))!);
      const attachment = email.attachments[params.index];
      if (!attachment) return problem(c, 404, "not-found", `No attachment ${params.index} in message ${params.id}`);
      const content = typeof attachment.content === "string" ? new TextEncoder().encode(attachment.content) : new Uint8Array(attachment.content);
      const name = (attachment.filename ?? `attachment-${params.index}`).replace(/["\r\n]/g, "");
      return c.body(content as Uint8Array<ArrayBuffer>, 200, { "content-type": attachment.mimeType || "application/octet-stream", "content-disposition": `attachment; filename="${name}"` });
    },
  });
}
