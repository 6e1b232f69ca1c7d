/**
 * JMAP Email/get, Email/query, Email/set, Email/changes and Thread/get (RFC 8621 §3-4). An
 * Email is one stored message row (a copy in another mailbox is another Email); keywords are the
 * IMAP flags ($seen ↔ \Seen, …), so both protocols see the same state.
 */
import { inArray } from "drizzle-orm";
import { decodeCharset } from "../../mime/charset.ts";
import { type MimePart, partAt } from "../../mime/structure.ts";
import { decodePartBody, type MessageSummary, summarize } from "../../mime/summary.ts";
import { messages } from "../../store/schema.ts";
import type { Store } from "../../store/store.ts";
import { createEmail } from "./email-create.ts";
import { compare, fastQuery, type Filter, matchesFilter } from "./email-query.ts";
import { changesOf, queryChangesOf, threadChanges } from "./changes.ts";
import { accountJmapId, accountState, checkAccount, type JmapAccount, mailboxId, parseId } from "./mailbox.ts";
import { MethodError } from "./request.ts";
import { wouldExceedQuota } from "../../store/quota.ts";

type Row = typeof messages.$inferSelect;
export const emailId = (id: number) => `M${id}`;

const SYSTEM: Record<string, string> = { "\\Seen": "$seen", "\\Flagged": "$flagged", "\\Answered": "$answered", "\\Draft": "$draft" };
const FROM_KEYWORD: Record<string, string> = Object.fromEntries(Object.entries(SYSTEM).map(([f, k]) => [k, f]));

export function keywordsOf(flags: readonly string[]): Record<string, true> {
  const out: Record<string, true> = {};
  for (const f of flags) if (f !== "\\Deleted" && f !== "\\Recent") out[SYSTEM[f] ?? f.toLowerCase()] = true;
  return out;
}

export function flagOf(keyword: string): string {
  return FROM_KEYWORD[keyword.toLowerCase()] ?? keyword;
}

async function accountRows(store: Store, account: JmapAccount): Promise<Row[]> {
  const boxes = (await store.mailboxes.list(account.id)).map((b) => b.id);
  return boxes.length ? store.db.select().from(messages).where(inArray(messages.mailboxId, boxes)) : [];
}

function charsetOf(part: MimePart): string {
  return part.params.charset ?? "us-ascii";
}

function bodyPart(summary: MessageSummary, path: string, blobId: string) {
  const part = partAt(summary.body, path);
  if (!part) return null;
  return {
    partId: path,
    blobId: `${blobId}.${path}`,
    size: part.bodyEnd - part.bodyStart,
    type: `${part.type}/${part.subtype}`,
    charset: part.type === "text" ? charsetOf(part) : null,
    disposition: part.disposition?.type ?? null,
    name: part.disposition?.params.filename ?? part.params.name ?? null,
    cid: part.id?.replace(/^<|>$/g, "") ?? null,
  };
}

export function emailMethods(store: Store, account: JmapAccount) {
  const load = async (ids: readonly number[]) => (ids.length ? store.db.select().from(messages).where(inArray(messages.id, [...ids])) : []);
  const owned = async () => new Set((await store.mailboxes.list(account.id)).map((b) => b.id));

  return {
    async "Email/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = Array.isArray(args.ids) ? (args.ids as unknown[]) : null;
      if (!requested) throw new MethodError("requestTooLarge", "Email/get needs ids");
      if (requested.length > 500) throw new MethodError("requestTooLarge", "At most 500 ids");
      const boxes = await owned();
      const wanted = requested.map((id) => parseId("M", id)).filter((n): n is number => n !== null);
      // In the order asked for (RFC 8620 §5.1 allows any, clients expect this one).
      const order = new Map(wanted.map((id, i) => [id, i]));
      const rows = (await load(wanted)).filter((r) => boxes.has(r.mailboxId)).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
      const props = Array.isArray(args.properties) ? new Set(args.properties as string[]) : null;
      const wantText = args.fetchTextBodyValues === true || args.fetchAllBodyValues === true;
      const wantHtml = args.fetchHTMLBodyValues === true || args.fetchAllBodyValues === true;
      const maxBytes = typeof args.maxBodyValueBytes === "number" && args.maxBodyValueBytes > 0 ? args.maxBodyValueBytes : Infinity;
      const list = [];
      for (const row of rows) {
        const s = row.summary as unknown as MessageSummary;
        const blobId = `B${row.blobHash}`;
        const needsRaw = wantText || wantHtml;
        const raw = needsRaw ? ((await store.messages.readBlob(row.blobHash)) ?? null) : null;
        const email: Record<string, unknown> = {
          id: emailId(row.id), blobId, threadId: row.threadId ?? emailId(row.id), mailboxIds: { [mailboxId(row.mailboxId)]: true },
          keywords: keywordsOf(row.flags), size: row.size, receivedAt: row.internalDate.toISOString(),
          messageId: s.messageId ? [s.messageId] : null, inReplyTo: s.inReplyTo?.length ? s.inReplyTo : null, references: s.references?.length ? s.references : null,
          sender: s.sender?.length ? s.sender : null, from: s.from?.length ? s.from : null, to: s.to?.length ? s.to : null, cc: s.cc?.length ? s.cc : null,
          bcc: s.bcc?.length ? s.bcc : null, replyTo: s.replyTo?.length ? s.replyTo : null, subject: s.subject,
          sentAt: s.sentAt ? new Date(s.sentAt).toISOString() : null, hasAttachment: s.hasAttachment, preview: s.preview,
          textBody: s.textParts.map((p) => bodyPart(s, p, blobId)).filter(Boolean),
          htmlBody: s.htmlParts.map((p) => bodyPart(s, p, blobId)).filter(Boolean),
          attachments: s.attachments.map((p) => bodyPart(s, p, blobId)).filter(Boolean),
        };
        const values: Record<string, { value: string; isTruncated: boolean; isEncodingProblem: boolean }> = {};
        for (const [wanted, paths] of [[wantText, s.textParts], [wantHtml, s.htmlParts]] as const) {
          if (!wanted || !raw) continue;
          for (const path of paths) {
            const part = partAt(s.body, path);
            if (!part) continue;
            const text = decodeCharset(decodePartBody(raw, part), charsetOf(part));
            values[path] = { value: text.length > maxBytes ? text.slice(0, maxBytes) : text, isTruncated: text.length > maxBytes, isEncodingProblem: false };
          }
        }
        email.bodyValues = values;
        list.push(props ? Object.fromEntries(Object.entries(email).filter(([k]) => k === "id" || props.has(k))) : email);
      }
      const found = new Set(list.map((e) => e.id));
      return { accountId: accountJmapId(account.id), state: await accountState(store, account), list, notFound: requested.filter((id) => !found.has(id as string)) };
    },

    async "Email/query"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const fast = await fastQuery(store, account, args);
      if (fast) return fast;
      const state = await accountState(store, account);
      const all = await queryEmails(store, account, args);
      const position = typeof args.position === "number" ? Math.max(0, args.position) : 0;
      const limit = typeof args.limit === "number" ? Math.max(0, Math.min(args.limit, 1000)) : 1000;
      return {
        accountId: accountJmapId(account.id), queryState: state, canCalculateChanges: args.collapseThreads !== true, position,
        ids: all.slice(position, position + limit), ...(args.calculateTotal === true ? { total: all.length } : {}), limit,
      };
    },

    /**
     * With collapseThreads, a change to one email can change which email stands for its thread;
     * such queries say canCalculateChanges: false and are re-run (RFC 8620 §5.6).
     */
    async "Email/queryChanges"(args: Record<string, unknown>) {
      checkAccount(args, account);
      if (args.collapseThreads === true) throw new MethodError("cannotCalculateChanges", "Re-run Email/query with collapseThreads");
      return queryChangesOf(store, account, "email", args, () => queryEmails(store, account, args), emailId);
    },

    async "Email/set"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      if (args.ifInState !== undefined && args.ifInState !== oldState) throw new MethodError("stateMismatch");
      const boxes = await owned();
      const updated: Record<string, null> = {};
      const notUpdated: Record<string, { type: string; description?: string }> = {};
      const destroyed: string[] = [];
      const notDestroyed: Record<string, { type: string }> = {};
      const notCreated: Record<string, { type: string; description: string }> = {};
      const created: Record<string, Record<string, unknown>> = {};
      for (const [key, spec] of Object.entries((args.create as Record<string, Record<string, unknown>>) ?? {})) {
        const result = await createEmail(store, account, spec, boxes);
        if ("overQuota" in result) notCreated[key] = { type: "overQuota", description: "The account is over its quota" };
        else if ("error" in result) notCreated[key] = { type: "invalidProperties", description: String(result.error) };
        else created[key] = result;
      }
      for (const [id, patch] of Object.entries((args.update as Record<string, Record<string, unknown>>) ?? {})) {
        const [row] = await load([parseId("M", id) ?? 0]);
        if (!row || !boxes.has(row.mailboxId)) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        const error = await applyUpdate(store, account, row, patch, boxes);
        if (error) notUpdated[id] = { type: "invalidProperties", description: error };
        else updated[id] = null;
      }
      for (const id of (args.destroy as string[]) ?? []) {
        const [row] = await load([parseId("M", id) ?? 0]);
        if (!row || !boxes.has(row.mailboxId)) {
          notDestroyed[id] = { type: "notFound" };
          continue;
        }
        const result = await store.write((tx) => store.messages.expunge(tx, row.mailboxId, [row.uid]));
        if (result) store.changes.publish({ accountId: account.id, mailboxIds: [row.mailboxId], modseq: result.modseq });
        destroyed.push(id);
      }
      return { accountId: accountJmapId(account.id), oldState, newState: await accountState(store, account), created, notCreated, updated, notUpdated, destroyed, notDestroyed };
    },

    /** RFC 8621 §4.8: messages from uploaded blobs into mailboxes, as APPEND does. */
    async "Email/import"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      const boxes = await owned();
      const created: Record<string, Record<string, unknown>> = {};
      const notCreated: Record<string, { type: string; description?: string }> = {};
      for (const [key, spec] of Object.entries((args.emails as Record<string, Record<string, unknown>>) ?? {})) {
        const hash = /^B([0-9a-f]{64})$/.exec(String(spec.blobId))?.[1];
        const raw = hash ? await store.messages.readBlob(hash) : undefined;
        if (!raw) {
          notCreated[key] = { type: "blobNotFound" };
          continue;
        }
        const targets = Object.keys((spec.mailboxIds as object) ?? {}).map((id) => parseId("MB", id));
        const target = targets.length === 1 ? targets[0] : null;
        if (target === null || target === undefined || !boxes.has(target)) {
          notCreated[key] = { type: "invalidProperties", description: "mailboxIds must name exactly one mailbox of this account" };
          continue;
        }
        const summary = summarize(raw);
        const flags = Object.keys((spec.keywords as object) ?? {}).map(flagOf);
        const receivedAt = typeof spec.receivedAt === "string" ? new Date(spec.receivedAt) : new Date();
        const appended = await store.write(async (tx) => {
          if (await wouldExceedQuota(tx, account.id, raw.length)) return null;
          const blob = await store.messages.putBlob(tx, raw);
          return store.messages.append(tx, blob, raw.length, {
            mailboxId: target, summary: summary as unknown as Record<string, unknown>, flags, internalDate: receivedAt,
            messageId: summary.messageId, subject: summary.subject, sentAt: summary.sentAt ? new Date(summary.sentAt) : null,
          });
        });
        if (!appended) {
          notCreated[key] = { type: "overQuota" };
          continue;
        }
        store.changes.publish({ accountId: account.id, mailboxIds: [target], modseq: appended.modseq });
        created[key] = { id: emailId(appended.id), blobId: `B${hash}`, threadId: emailId(appended.id), size: raw.length };
      }
      return { accountId: accountJmapId(account.id), oldState, newState: await accountState(store, account), created, notCreated };
    },

    async "SearchSnippet/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const ids = Array.isArray(args.emailIds) ? (args.emailIds as string[]) : [];
      const filter = (args.filter ?? {}) as Record<string, unknown>;
      const term = String(filter.text ?? filter.subject ?? filter.body ?? "");
      const boxes = await owned();
      const rows = (await load(ids.map((id) => parseId("M", id)).filter((n): n is number => n !== null))).filter((r) => boxes.has(r.mailboxId));
      const mark = (text: string | null) => {
        if (!text || !term) return null;
        const at = text.toLowerCase().indexOf(term.toLowerCase());
        if (at < 0) return null;
        const escape = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
        return escape(text.slice(Math.max(0, at - 60), at)) + `<mark>${escape(text.slice(at, at + term.length))}</mark>` + escape(text.slice(at + term.length, at + term.length + 100));
      };
      const list = rows.map((r) => ({ emailId: emailId(r.id), subject: mark(r.subject), preview: mark((r.summary as unknown as MessageSummary).preview) }));
      return { accountId: accountJmapId(account.id), list, notFound: ids.filter((id) => !list.some((l) => l.emailId === id)) };
    },

    /** RFC 8621 §4.7 copies between accounts; a session here holds one account, so there is none to copy from. */
    async "Email/copy"(args: Record<string, unknown>) {
      checkAccount(args, account);
      throw new MethodError("fromAccountNotFound", `No account ${String(args.fromAccountId)} is accessible; within one account, move with Email/set mailboxIds`);
    },

    async "Thread/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return threadChanges(store, account, args, emailId);
    },

    async "Email/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return changesOf(store, account, "email", args, emailId);
    },

    async "Thread/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const rows = await accountRows(store, account);
      const ids = Array.isArray(args.ids) ? (args.ids as string[]) : [];
      const list = ids
        .map((id) => ({ id, emailIds: rows.filter((r) => (r.threadId ?? emailId(r.id)) === id).sort((a, b) => a.internalDate.getTime() - b.internalDate.getTime()).map((r) => emailId(r.id)) }))
        .filter((t) => t.emailIds.length);
      return { accountId: accountJmapId(account.id), state: await accountState(store, account), list, notFound: ids.filter((id) => !list.some((t) => t.id === id)) };
    },
  };
}

/** Every id the query matches, in order (RFC 8621 §4.4). */
async function queryEmails(store: Store, account: JmapAccount, args: Record<string, unknown>): Promise<string[]> {
  let rows = await accountRows(store, account);
  if (args.filter) rows = rows.filter((r) => matchesFilter(r, args.filter as Filter));
  const sort = Array.isArray(args.sort) && args.sort.length ? (args.sort as Array<{ property: string; isAscending?: boolean }>) : [{ property: "receivedAt", isAscending: false }];
  rows.sort((a, b) => {
    for (const { property, isAscending = true } of sort) {
      const d = compare(a, b, property);
      if (d !== 0) return isAscending ? d : -d;
    }
    return b.id - a.id;
  });
  if (args.collapseThreads === true) {
    const seen = new Set<string>();
    rows = rows.filter((r) => {
      const thread = r.threadId ?? emailId(r.id);
      return seen.has(thread) ? false : (seen.add(thread), true);
    });
  }
  return rows.map((r) => emailId(r.id));
}

/** keywords (whole or `keywords/$seen`) and mailboxIds (a move), in one transaction. */
async function applyUpdate(store: Store, account: JmapAccount, row: Row, patch: Record<string, unknown>, boxes: Set<number>): Promise<string | null> {
  const add: string[] = [];
  const remove: string[] = [];
  let set: string[] | null = null;
  let target: number | null = null;
  for (const [key, value] of Object.entries(patch)) {
    if (key === "keywords") {
      if (typeof value !== "object" || value === null) return "keywords must be an object";
      set = Object.keys(value).map(flagOf);
    } else if (key.startsWith("keywords/")) {
      (value === true ? add : remove).push(flagOf(key.slice(9)));
    } else if (key === "mailboxIds") {
      const ids = Object.keys((value as object) ?? {}).map((id) => parseId("MB", id));
      const only = ids.length === 1 ? ids[0] : null;
      if (only === null || only === undefined || !boxes.has(only)) return "mailboxIds must name exactly one mailbox of this account";
      target = only;
    } else return `${key} cannot be changed`;
  }
  await store.write(async (tx) => {
    if (set) await store.messages.storeFlags(tx, row.mailboxId, [row.uid], "set", [...set, ...(row.flags.includes("\\Deleted") ? ["\\Deleted"] : [])], null);
    if (add.length) await store.messages.storeFlags(tx, row.mailboxId, [row.uid], "add", add, null);
    if (remove.length) await store.messages.storeFlags(tx, row.mailboxId, [row.uid], "remove", remove, null);
    if (target !== null && target !== row.mailboxId) {
      await store.messages.copy(tx, row.mailboxId, [row.uid], target);
      await store.messages.expunge(tx, row.mailboxId, [row.uid]);
    }
  });
  store.changes.publish({ accountId: account.id, mailboxIds: target !== null ? [row.mailboxId, target] : [row.mailboxId], modseq: 0 });
  return null;
}
