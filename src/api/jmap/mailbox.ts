/**
 * JMAP Mailbox/get and Mailbox/changes (RFC 8621 §2), and the state strings shared by every
 * type: the account's newest change-log id, the same log IMAP reads its MODSEQs from.
 */
import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { createMailbox, deleteMailbox, renameMailbox } from "../../store/mailboxes.ts";
import { changes, messages } from "../../store/schema.ts";
import type { Store } from "../../store/store.ts";
import { changesOf, queryChangesOf } from "./changes.ts";
import { MethodError } from "./request.ts";

export interface JmapAccount {
  id: number;
  address: string;
}

export const mailboxId = (id: number) => `MB${id}`;
export const accountJmapId = (id: number) => `A${id}`;

export function parseId(prefix: string, id: unknown): number | null {
  if (typeof id !== "string" || !id.startsWith(prefix)) return null;
  const n = Number(id.slice(prefix.length));
  return Number.isInteger(n) && n > 0 ? n : null;
}

export async function accountState(store: Store, account: JmapAccount): Promise<string> {
  const [row] = await store.db.select({ id: changes.id }).from(changes).where(eq(changes.accountId, account.id)).orderBy(desc(changes.id)).limit(1);
  return String(row?.id ?? 0);
}

/** RFC 8621 §2: roles are the IANA names, lower case ("\\Sent" → "sent"). */
export function jmapRole(role: string | null): string | null {
  return role ? role.replace(/^\\/, "").toLowerCase() : null;
}

export function checkAccount(args: Record<string, unknown>, account: JmapAccount): void {
  if (args.accountId !== accountJmapId(account.id)) throw new MethodError("accountNotFound", `No account ${String(args.accountId)}`);
}

export function mailboxMethods(store: Store, account: JmapAccount) {
  return {
    async "Mailbox/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const boxes = await store.mailboxes.list(account.id);
      const unseen = sql`${messages.flags} not like '%"\\Seen"%'`;
      const counts = await store.db
        .select({
          mailboxId: messages.mailboxId,
          total: sql<number>`count(*)`,
          unread: sql<number>`sum(${unseen})`,
          threads: sql<number>`count(distinct coalesce(${messages.threadId}, ${messages.id}))`,
          unreadThreads: sql<number>`count(distinct case when ${unseen} then coalesce(${messages.threadId}, ${messages.id}) end)`,
        })
        .from(messages)
        .where(inArray(messages.mailboxId, boxes.length ? boxes.map((b) => b.id) : [0]))
        .groupBy(messages.mailboxId);
      const byBox = new Map(counts.map((c) => [c.mailboxId, c]));
      const ids = Array.isArray(args.ids) ? new Set(args.ids as string[]) : null;
      const list: Array<Record<string, unknown> & { id: string }> = [];
      for (const box of boxes) {
        if (ids && !ids.has(mailboxId(box.id))) continue;
        const c = byBox.get(box.id);
        list.push({
          id: mailboxId(box.id),
          name: box.name,
          parentId: null,
          role: jmapRole(box.role),
          sortOrder: box.role === "inbox" ? 0 : 10,
          totalEmails: Number(c?.total ?? 0),
          unreadEmails: Number(c?.unread ?? 0),
          totalThreads: Number(c?.threads ?? 0),
          unreadThreads: Number(c?.unreadThreads ?? 0),
          myRights: { mayReadItems: true, mayAddItems: true, mayRemoveItems: true, maySetSeen: true, maySetKeywords: true, mayCreateChild: true, mayRename: box.role !== "inbox", mayDelete: box.role !== "inbox", maySubmit: true },
          isSubscribed: box.subscribed,
        });
      }
      const notFound = ids ? [...ids].filter((id) => !list.some((m) => m.id === id)) : [];
      return { accountId: accountJmapId(account.id), state: await accountState(store, account), list, notFound };
    },

    /** RFC 8621 §2.5: create, rename, destroy (INBOX cannot be renamed or destroyed). */
    async "Mailbox/set"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      const boxes = await store.mailboxes.list(account.id);
      const created: Record<string, { id: string }> = {};
      const notCreated: Record<string, { type: string; description?: string }> = {};
      const updated: Record<string, null> = {};
      const notUpdated: Record<string, { type: string; description?: string }> = {};
      const destroyed: string[] = [];
      const notDestroyed: Record<string, { type: string; description?: string }> = {};
      const validName = (name: unknown): name is string => typeof name === "string" && name.length > 0 && name.length <= 255 && name.toUpperCase() !== "INBOX";
      for (const [key, spec] of Object.entries((args.create as Record<string, { name?: unknown }>) ?? {})) {
        if (!validName(spec.name)) notCreated[key] = { type: "invalidProperties", description: "name" };
        else if (boxes.some((b) => b.name === spec.name)) notCreated[key] = { type: "invalidProperties", description: "A mailbox of that name exists" };
        else created[key] = { id: mailboxId((await store.write((tx) => createMailbox(tx, account.id, spec.name as string, null))).id) };
      }
      for (const [id, patch] of Object.entries((args.update as Record<string, { name?: unknown }>) ?? {})) {
        const box = boxes.find((b) => mailboxId(b.id) === id);
        if (!box) notUpdated[id] = { type: "notFound" };
        else if (box.role === "inbox" || !validName(patch.name) || Object.keys(patch).some((k) => k !== "name")) notUpdated[id] = { type: "invalidProperties", description: "Only name can change, and not INBOX's" };
        else {
          await store.write((tx) => renameMailbox(tx, store, box, patch.name as string));
          updated[id] = null;
        }
      }
      for (const id of (args.destroy as string[]) ?? []) {
        const box = boxes.find((b) => mailboxId(b.id) === id);
        if (!box) notDestroyed[id] = { type: "notFound" };
        else if (box.role === "inbox") notDestroyed[id] = { type: "forbidden", description: "INBOX cannot be destroyed" };
        else {
          await store.write((tx) => deleteMailbox(tx, box));
          destroyed.push(id);
        }
      }
      store.changes.publish({ accountId: account.id, mailboxIds: [], modseq: 0 });
      return { accountId: accountJmapId(account.id), oldState, newState: await accountState(store, account), created, notCreated, updated, notUpdated, destroyed, notDestroyed };
    },

    /** RFC 8621 §2.3: filter by role, name, hasAnyRole, isSubscribed; sort by name or sortOrder. */
    async "Mailbox/query"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const state = await accountState(store, account);
      const ids = await queryMailboxes(store, account, args);
      return { accountId: accountJmapId(account.id), queryState: state, canCalculateChanges: true, position: 0, ids, total: ids.length };
    },

    async "Mailbox/queryChanges"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return queryChangesOf(store, account, "mailbox", args, () => queryMailboxes(store, account, args), mailboxId);
    },

    async "Mailbox/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return changesOf(store, account, "mailbox", args, mailboxId);
    },
  };
}

async function queryMailboxes(store: Store, account: JmapAccount, args: Record<string, unknown>): Promise<string[]> {
  const filter = (args.filter ?? {}) as Record<string, unknown>;
  let boxes = await store.mailboxes.list(account.id);
  for (const [key, value] of Object.entries(filter)) {
    if (key === "role") boxes = boxes.filter((b) => jmapRole(b.role) === value);
    else if (key === "hasAnyRole") boxes = boxes.filter((b) => (b.role !== null) === value);
    else if (key === "name") boxes = boxes.filter((b) => b.name.toLowerCase().includes(String(value).toLowerCase()));
    else if (key === "isSubscribed") boxes = boxes.filter((b) => b.subscribed === value);
    else if (key === "parentId") boxes = value === null ? boxes : [];
    else throw new MethodError("unsupportedFilter", `Filter ${key} is not supported`);
  }
  const sort = Array.isArray(args.sort) ? (args.sort as Array<{ property: string; isAscending?: boolean }>) : [];
  for (const { property, isAscending = true } of [...sort].reverse()) {
    if (property !== "name" && property !== "sortOrder") throw new MethodError("unsupportedSort", `Sort by ${property} is not supported`);
    const key = (b: (typeof boxes)[number]) => (property === "name" ? b.name : b.role === "inbox" ? "0" : "1");
    boxes = [...boxes].sort((a, b) => (isAscending ? 1 : -1) * key(a).localeCompare(key(b)));
  }
  return boxes.map((b) => mailboxId(b.id));
}
