/**
 * JMAP Mailbox/get and Mailbox/changes (RFC 8621 §2), and the state strings shared by every
 * type: the account's newest change-log id, the same log IMAP reads its MODSEQs from.
 */
import { StoreError } from "../../store/errors.ts";
import type { Store } from "../../store/store.ts";
import { mailboxChanges, queryChangesOf } from "./changes.ts";
import { queryWindow } from "./query-window.ts";
import { type CallContext, MethodError } from "./request.ts";
import { notSettable, pick, propertyNames, requestedProperties } from "./schemas.ts";
import { MAILBOX } from "./types/mailbox.ts";
import { checkIfInState, setResponse } from "./standard.ts";

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
  return String(await store.changeLog.state(account.id));
}

/** RFC 8621 §2: roles are the IANA names, lower case ("\\Sent" → "sent"). */
export function jmapRole(role: string | null): string | null {
  return role ? role.replace(/^\\/, "").toLowerCase() : null;
}

/** RFC 8621 §2 sortOrder: as set, else 0 for INBOX and 10 for the others. */
const sortOrderOf = (box: { role: string | null; sortOrder: number | null }) =>
  box.sortOrder ?? (box.role === "inbox" ? 0 : 10);

/** RFC 8621 §2: a sortOrder is an UnsignedInt (RFC 8620 §1.3: below 2^53). */
const isUnsignedInt = (value: unknown): value is number =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 0;

/** Mailbox properties only the server sets (RFC 8620 §5.3: setting them is invalidProperties). */
const SERVER_SET = notSettable(MAILBOX, true);
/** What a create or update may give: roles stay the server's here (only the present one may be restated). */
const SETTABLE = propertyNames(MAILBOX).filter((k) => !SERVER_SET.includes(k) && k !== "role");

/** The last level of a mailbox path ("Parent/Child" → "Child"). */
const leafName = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** The mailbox one level up, if the account has it (RFC 8621 §2 parentId). */
function parentBox<B extends { name: string }>(box: B, boxes: readonly B[]): B | null {
  const at = box.name.lastIndexOf("/");
  return at < 0 ? null : boxes.find((b) => b.name === box.name.slice(0, at)) ?? null;
}

/** A list of ids (or of property names), or null when absent or null (RFC 8620 §5.1). */
export function idsArgument(value: unknown, name = "ids"): string[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value) || !value.every((id) => typeof id === "string")) {
    throw new MethodError("invalidArguments", `${name} must be a list of strings`);
  }
  return value;
}

export function checkAccount(args: Record<string, unknown>, account: JmapAccount): void {
  if (typeof args.accountId !== "string") throw new MethodError("invalidArguments", "accountId is required");
  if (args.accountId !== accountJmapId(account.id)) {
    throw new MethodError("accountNotFound", `No account ${String(args.accountId)}`);
  }
}

export function mailboxMethods(store: Store, account: JmapAccount) {
  return {
    async "Mailbox/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const boxes = await store.mailboxes.list(account.id);
      const byBox = await store.mailboxes.counts(account.id);
      const requested = idsArgument(args.ids);
      const ids = requested ? new Set(requested) : null;
      const properties = requestedProperties(MAILBOX, args.properties);
      const list: Array<Record<string, unknown> & { id: string }> = [];
      for (const box of boxes) {
        if (ids && !ids.has(mailboxId(box.id))) continue;
        const c = byBox.get(box.id);
        list.push({
          id: mailboxId(box.id),
          name: leafName(box.name),
          parentId: parentBox(box, boxes) ? mailboxId(parentBox(box, boxes)!.id) : null,
          role: jmapRole(box.role),
          sortOrder: sortOrderOf(box),
          totalEmails: c?.total ?? 0,
          unreadEmails: c?.unread ?? 0,
          totalThreads: c?.threads ?? 0,
          unreadThreads: c?.unreadThreads ?? 0,
          myRights: {
            mayReadItems: true,
            mayAddItems: true,
            mayRemoveItems: true,
            maySetSeen: true,
            maySetKeywords: true,
            mayCreateChild: true,
            mayRename: box.role !== "inbox",
            mayDelete: box.role !== "inbox",
            maySubmit: true,
          },
          isSubscribed: box.subscribed,
        });
        if (properties) list.push(pick(list.pop()!, properties) as (typeof list)[number]);
      }
      const notFound = ids ? [...ids].filter((id) => !list.some((m) => m.id === id)) : [];
      return { accountId: accountJmapId(account.id), state: await accountState(store, account), list, notFound };
    },

    /**
     * RFC 8621 §2.5: create, rename, (un)subscribe, destroy (INBOX cannot be renamed or destroyed).
     * A mailbox with children is not destroyed (mailboxHasChild), nor one that holds mail unless
     * onDestroyRemoveEmails is true (mailboxHasEmail).
     */
    async "Mailbox/set"(args: Record<string, unknown>, context?: CallContext) {
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      checkIfInState(args, oldState);
      let boxes = await store.mailboxes.list(account.id);
      const created: Record<string, { id: string }> = {};
      const notCreated: Record<string, { type: string; description?: string; properties?: string[] }> = {};
      const updated: Record<string, null> = {};
      const notUpdated: Record<string, { type: string; description?: string; properties?: string[] }> = {};
      const destroyed: string[] = [];
      const notDestroyed: Record<string, { type: string; description?: string }> = {};
      // RFC 8621 §2: a name is one level of the hierarchy; the store keeps the path ("Parent/Child").
      const validName = (name: unknown): name is string =>
        typeof name === "string" && name.length > 0 && name.length <= 255 && !name.includes("/") &&
        name.toUpperCase() !== "INBOX";
      const failure = (e: unknown) => {
        if (!(e instanceof StoreError)) throw e;
        return { type: e.code === "not-found" ? "notFound" : "invalidProperties", description: e.message };
      };
      const invalid = (property: string, description: string) => ({
        type: "invalidProperties",
        description,
        properties: [property],
      });
      /** The parent a parentId names: a mailbox, null for the top level, undefined for none such. */
      const parentOf = (value: unknown) => {
        if (value === null) return null;
        const id = typeof value === "string" && value.startsWith("#") ? context?.createdIds.get(value.slice(1)) : value;
        return boxes.find((b) => mailboxId(b.id) === id);
      };
      for (const [key, spec] of Object.entries((args.create as Record<string, Record<string, unknown>>) ?? {})) {
        const parent = parentOf(spec.parentId ?? null);
        const path = parent ? `${parent.name}/${spec.name}` : String(spec.name);
        const extra = Object.keys(spec).find((k) => !SETTABLE.includes(k) && !(k === "role" && spec.role === null));
        if (extra) {
          notCreated[key] = invalid(
            extra,
            SERVER_SET.includes(extra) ? `${extra} is set by the server` : `${extra} cannot be set`,
          );
        } else if ("sortOrder" in spec && !isUnsignedInt(spec.sortOrder)) {
          notCreated[key] = invalid("sortOrder", "sortOrder is an unsigned integer");
        } else if (!validName(spec.name)) notCreated[key] = invalid("name", "A name without /, not INBOX");
        else if (parent === undefined) notCreated[key] = invalid("parentId", "No such mailbox");
        else if (boxes.some((b) => b.name === path)) notCreated[key] = invalid("name", "A mailbox of that name exists");
        else {
          try {
            const box = await store.mail.createMailbox(account.id, path, null);
            if (spec.isSubscribed === false) await store.mail.setSubscribed(box, false);
            if (isUnsignedInt(spec.sortOrder)) await store.mailboxes.setSortOrder(box, spec.sortOrder);
            created[key] = { id: mailboxId(box.id) };
            context?.createdIds.set(key, mailboxId(box.id));
            boxes = await store.mailboxes.list(account.id);
          } catch (e) {
            notCreated[key] = failure(e);
          }
        }
      }
      for (const [id, patch] of Object.entries((args.update as Record<string, Record<string, unknown>>) ?? {})) {
        const box = boxes.find((b) => mailboxId(b.id) === id);
        if (!box) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        const parent = "parentId" in patch ? parentOf(patch.parentId) : parentBox(box, boxes);
        const leaf = "name" in patch ? patch.name : leafName(box.name);
        const path = parent ? `${parent.name}/${leaf}` : String(leaf);
        const rename = path !== box.name;
        const extra = Object.keys(patch).find((k) =>
          !SETTABLE.includes(k) && !(k === "role" && patch.role === jmapRole(box.role))
        );
        if (extra) {
          notUpdated[id] = invalid(
            extra,
            SERVER_SET.includes(extra) ? `${extra} is set by the server` : `${extra} cannot be changed`,
          );
        } else if ("sortOrder" in patch && !isUnsignedInt(patch.sortOrder)) {
          notUpdated[id] = invalid("sortOrder", "sortOrder is an unsigned integer");
        } else if ("isSubscribed" in patch && typeof patch.isSubscribed !== "boolean") {
          notUpdated[id] = invalid("isSubscribed", "A boolean");
        } else if (parent === undefined) notUpdated[id] = invalid("parentId", "No such mailbox");
        else if (parent && (parent.id === box.id || parent.name.startsWith(`${box.name}/`))) {
          notUpdated[id] = invalid("parentId", "A mailbox cannot be inside itself");
        } else if (rename && (box.role === "inbox" || !validName(leaf))) {
          notUpdated[id] = invalid("name", "A name without /, not INBOX (INBOX cannot be renamed)");
        } else if (rename && boxes.some((b) => b.name === path)) {
          notUpdated[id] = invalid("name", "A mailbox of that name exists");
        } else {
          try {
            if (rename) await store.mail.renameMailbox(box, path);
            if (typeof patch.isSubscribed === "boolean" && patch.isSubscribed !== box.subscribed) {
              await store.mail.setSubscribed(box, patch.isSubscribed);
            }
            if (isUnsignedInt(patch.sortOrder) && patch.sortOrder !== sortOrderOf(box)) {
              await store.mailboxes.setSortOrder(box, patch.sortOrder);
            }
            updated[id] = null;
          } catch (e) {
            notUpdated[id] = failure(e);
          }
          boxes = await store.mailboxes.list(account.id);
        }
      }
      // Children before their parents, so that a parent destroyed with its children goes too.
      const depth = (id: string) => boxes.find((b) => mailboxId(b.id) === id)?.name.split("/").length ?? 0;
      const toDestroy = [...new Set((args.destroy as string[]) ?? [])].sort((a, b) => depth(b) - depth(a));
      const removeEmails = args.onDestroyRemoveEmails === true;
      for (const id of toDestroy) {
        const box = boxes.find((b) => mailboxId(b.id) === id);
        if (!box) notDestroyed[id] = { type: "notFound" };
        else if (box.role === "inbox") {
          notDestroyed[id] = { type: "forbidden", description: "INBOX cannot be destroyed" };
        } else if (boxes.some((b) => b.name.startsWith(`${box.name}/`))) {
          notDestroyed[id] = { type: "mailboxHasChild", description: "The mailbox has child mailboxes" };
        } else {
          try {
            await store.mail.deleteMailbox(box, { onlyIfEmpty: !removeEmails });
            destroyed.push(id);
            boxes = boxes.filter((b) => b.id !== box.id);
          } catch (e) {
            if (e instanceof StoreError && e.code === "in-use") {
              notDestroyed[id] = {
                type: "mailboxHasEmail",
                description: "The mailbox holds emails; set onDestroyRemoveEmails to destroy them",
              };
            } else notDestroyed[id] = failure(e);
          }
        }
      }
      const outcome = { created, notCreated, updated, notUpdated, destroyed, notDestroyed };
      return setResponse(account, oldState, await accountState(store, account), outcome);
    },

    /** RFC 8621 §2.3: filter by role, name, hasAnyRole, isSubscribed; sort by name or sortOrder. */
    async "Mailbox/query"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const state = await accountState(store, account);
      const ids = await queryMailboxes(store, account, args);
      return {
        accountId: accountJmapId(account.id),
        queryState: state,
        canCalculateChanges: true,
        ...queryWindow(ids, args),
        total: ids.length,
      };
    },

    async "Mailbox/queryChanges"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return queryChangesOf(store, account, "mailbox", args, () => queryMailboxes(store, account, args), mailboxId);
    },

    async "Mailbox/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return mailboxChanges(store, account, args);
    },
  };
}

async function queryMailboxes(store: Store, account: JmapAccount, args: Record<string, unknown>): Promise<string[]> {
  const filter = (args.filter ?? {}) as Record<string, unknown>;
  let boxes = await store.mailboxes.list(account.id);
  const every = boxes;
  for (const [key, value] of Object.entries(filter)) {
    if (key === "role") boxes = boxes.filter((b) => jmapRole(b.role) === value);
    else if (key === "hasAnyRole") boxes = boxes.filter((b) => (b.role !== null) === value);
    else if (key === "name") boxes = boxes.filter((b) => b.name.toLowerCase().includes(String(value).toLowerCase()));
    else if (key === "isSubscribed") boxes = boxes.filter((b) => b.subscribed === value);
    else if (key === "parentId") {
      boxes = boxes.filter((b) => (parentBox(b, every) ? mailboxId(parentBox(b, every)!.id) : null) === value);
    } else throw new MethodError("unsupportedFilter", `Filter ${key} is not supported`);
  }
  const sort = Array.isArray(args.sort) ? (args.sort as Array<{ property: string; isAscending?: boolean }>) : [];
  for (const { property, isAscending = true } of [...sort].reverse()) {
    if (property !== "name" && property !== "sortOrder") {
      throw new MethodError("unsupportedSort", `Sort by ${property} is not supported`);
    }
    const compare = (a: (typeof boxes)[number], b: (typeof boxes)[number]) =>
      property === "name" ? a.name.localeCompare(b.name) : sortOrderOf(a) - sortOrderOf(b);
    boxes = [...boxes].sort((a, b) => (isAscending ? 1 : -1) * compare(a, b));
  }
  return boxes.map((b) => mailboxId(b.id));
}
