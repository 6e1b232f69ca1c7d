/**
 * JMAP Email/get, Email/query, Email/set, Email/changes and Thread/get (RFC 8621 §3-4). An
 * Email is the store's email: one identity (`M<id>`) in one or more mailboxes, kept across moves;
 * keywords are the IMAP flags ($seen ↔ \Seen, …), so both protocols see the same state.
 */
import type { EmailView } from "../../store/emails.ts";
import { StoreError } from "../../store/errors.ts";
import type { KeywordChange } from "../../store/mail-store.ts";
import type { Store } from "../../store/store.ts";
import { readBlob } from "./blob.ts";
import { emailParse } from "./email-parse.ts";
import { DEFAULT_EMAIL_PROPERTIES, emailGetOptions, emailObject } from "./email-object.ts";
import { appendEmail, createEmail, type CreateError, targetMailboxes, tooManyMailboxes } from "./email-create.ts";
import { fastQuery, queryEmails, threadWide } from "./email-query.ts";
import { changesOf, queryChangesOf, threadChanges } from "./changes.ts";
import { queryWindow } from "./query-window.ts";
import {
  accountJmapId,
  accountState,
  checkAccount,
  idsArgument,
  type JmapAccount,
  mailboxId,
  parseId,
} from "./mailbox.ts";
import { type CallContext, MethodError } from "./request.ts";
import { checkIfInState, setResponse } from "./standard.ts";

export const emailId = (id: number) => `M${id}`;

const SYSTEM: Record<string, string> = {
  "\\Seen": "$seen",
  "\\Flagged": "$flagged",
  "\\Answered": "$answered",
  "\\Draft": "$draft",
};
const FROM_KEYWORD: Record<string, string> = Object.fromEntries(Object.entries(SYSTEM).map(([f, k]) => [k, f]));

export function keywordsOf(flags: readonly string[]): Record<string, true> {
  const out: Record<string, true> = {};
  for (const f of flags) if (f !== "\\Deleted" && f !== "\\Recent") out[SYSTEM[f] ?? f.toLowerCase()] = true;
  return out;
}

export function flagOf(keyword: string): string {
  return FROM_KEYWORD[keyword.toLowerCase()] ?? keyword;
}

export function emailMethods(store: Store, account: JmapAccount) {
  const load = async (ids: readonly number[]) => (ids.length ? store.emails.get(account.id, ids) : []);
  const owned = async () => new Set((await store.mailboxes.list(account.id)).map((b) => b.id));
  const ids = (values: readonly unknown[]) =>
    values.map((id) => parseId("M", id)).filter((n): n is number => n !== null);

  return {
    async "Email/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = idsArgument(args.ids);
      // RFC 8620 §5.1: ids null asks for every email; too many to return at once.
      if (!requested) throw new MethodError("requestTooLarge", "Email/get needs ids");
      if (requested.length > 500) throw new MethodError("requestTooLarge", "At most 500 ids");
      const options = emailGetOptions(args, DEFAULT_EMAIL_PROPERTIES);
      const state = await accountState(store, account);
      const wanted = ids(requested);
      // In the order asked for (RFC 8620 §5.1 allows any, clients expect this one).
      const order = new Map(wanted.map((id, i) => [id, i]));
      const rows = (await load(wanted)).sort((a, b) => order.get(a.id)! - order.get(b.id)!);
      const list = [];
      for (const row of rows) {
        list.push(
          await emailObject({
            blobId: `B${row.blobHash}`,
            summary: row.summary,
            raw: async () => (await store.emails.readBlob(row.blobHash)) ?? null,
            stored: {
              id: emailId(row.id),
              threadId: row.threadId,
              mailboxIds: Object.fromEntries(row.mailboxIds.map((id) => [mailboxId(id), true as const])),
              keywords: keywordsOf(row.flags),
              size: row.size,
              receivedAt: row.receivedAt,
            },
          }, options),
        );
      }
      const found = new Set(list.map((e) => e.id));
      return {
        accountId: accountJmapId(account.id),
        state,
        list,
        notFound: requested.filter((id) => !found.has(id as string)),
      };
    },

    "Email/parse": (args: Record<string, unknown>) => emailParse(store, account, args),

    async "Email/query"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const fast = await fastQuery(store, account, args);
      if (fast) return fast;
      const state = await accountState(store, account);
      const all = await queryEmails(store, account, args);
      return {
        accountId: accountJmapId(account.id),
        queryState: state,
        canCalculateChanges: !threadWide(args),
        ...queryWindow(all, args),
        ...(args.calculateTotal === true ? { total: all.length } : {}),
      };
    },

    /**
     * With collapseThreads or a thread-wide condition or sort, a change to one email can change
     * whether another one of its thread is in the results, or where; such queries say
     * canCalculateChanges: false and are re-run (RFC 8620 §5.6).
     */
    async "Email/queryChanges"(args: Record<string, unknown>) {
      checkAccount(args, account);
      if (threadWide(args)) {
        throw new MethodError("cannotCalculateChanges", "Re-run Email/query: its results depend on whole threads");
      }
      return queryChangesOf(store, account, "email", args, () => queryEmails(store, account, args), emailId);
    },

    async "Email/set"(args: Record<string, unknown>, context?: CallContext) {
      // RFC 8620 §5.3: "#creationId" names what an earlier call of this request created.
      const real = (id: string) => (id.startsWith("#") ? context?.createdIds.get(id.slice(1)) ?? id : id);
      checkAccount(args, account);
      const oldState = await accountState(store, account);
      checkIfInState(args, oldState);
      const boxes = await owned();
      const updated: Record<string, null> = {};
      const notUpdated: Record<string, { type: string; description?: string }> = {};
      const destroyed: string[] = [];
      const notDestroyed: Record<string, { type: string }> = {};
      const notCreated: Record<string, CreateError> = {};
      const created: Record<string, Record<string, unknown>> = {};
      for (const [key, spec] of Object.entries((args.create as Record<string, Record<string, unknown>>) ?? {})) {
        const result = await createEmail(store, account, withRealMailboxIds(spec, real), boxes);
        if ("notCreated" in result) notCreated[key] = result.notCreated;
        else created[key] = result.created;
      }
      for (const [id, patch] of Object.entries((args.update as Record<string, Record<string, unknown>>) ?? {})) {
        const [row] = await load(ids([real(id)]));
        if (!row) {
          notUpdated[id] = { type: "notFound" };
          continue;
        }
        const update = parsePatch(row, withRealMailboxIds(patch, real), boxes);
        if (typeof update === "string") {
          notUpdated[id] = { type: "invalidProperties", description: update };
          continue;
        }
        const tooMany = tooManyMailboxes(update.mailboxIds ?? []);
        if (tooMany) {
          notUpdated[id] = tooMany;
          continue;
        }
        try {
          const result = await store.mail.updateEmail(account.id, row.id, update);
          if (result === "notFound") notUpdated[id] = { type: "notFound" };
          else if (result === "overQuota") {
            notUpdated[id] = {
              type: "overQuota",
              description: "The mailboxes added would take the account over its quota",
            };
          } else updated[id] = null;
        } catch (e) {
          if (!(e instanceof StoreError)) throw e;
          notUpdated[id] = {
            type: e.code === "not-found" && !update.mailboxIds ? "notFound" : "invalidProperties",
            description: e.message,
          };
        }
      }
      for (const id of (args.destroy as string[]) ?? []) {
        const [n] = ids([real(id)]);
        if (n !== undefined && (await store.mail.destroyEmail(account.id, n))) destroyed.push(id);
        else notDestroyed[id] = { type: "notFound" };
      }
      const outcome = { created, notCreated, updated, notUpdated, destroyed, notDestroyed };
      return setResponse(account, oldState, await accountState(store, account), outcome);
    },

    /** RFC 8621 §4.8: messages from uploaded blobs into mailboxes, as APPEND does (and threaded). */
    async "Email/import"(args: Record<string, unknown>, context?: CallContext) {
      checkAccount(args, account);
      // RFC 9404 §4.1: a blob made by Blob/upload earlier in the request, by its creation id.
      const real = (id: unknown) =>
        typeof id === "string" && id.startsWith("#") ? context?.createdIds.get(id.slice(1)) ?? id : id;
      const oldState = await accountState(store, account);
      checkIfInState(args, oldState);
      const boxes = await owned();
      const created: Record<string, Record<string, unknown>> = {};
      const notCreated: Record<string, { type: string; description?: string }> = {};
      for (const [key, spec] of Object.entries((args.emails as Record<string, Record<string, unknown>>) ?? {})) {
        const raw = await readBlob(store, account, real(spec.blobId));
        if (!raw) {
          notCreated[key] = { type: "blobNotFound" };
          continue;
        }
        const targets = targetMailboxes(spec.mailboxIds, boxes);
        if (!targets) {
          notCreated[key] = {
            type: "invalidProperties",
            description: "mailboxIds must name at least one mailbox of this account",
          };
          continue;
        }
        const tooMany = tooManyMailboxes(targets);
        if (tooMany) {
          notCreated[key] = tooMany;
          continue;
        }
        const flags = Object.keys((spec.keywords as object) ?? {}).map(flagOf);
        const receivedAt = typeof spec.receivedAt === "string" ? new Date(spec.receivedAt) : new Date();
        if (Number.isNaN(receivedAt.getTime())) {
          notCreated[key] = { type: "invalidProperties", description: "receivedAt must be a UTCDate" };
          continue;
        }
        const result = await appendEmail(store, account, raw, targets, flags, receivedAt);
        if ("overQuota" in result) notCreated[key] = { type: "overQuota" };
        else created[key] = result;
      }
      return {
        accountId: accountJmapId(account.id),
        oldState,
        newState: await accountState(store, account),
        created,
        notCreated,
      };
    },

    async "SearchSnippet/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const requested = idsArgument(args.emailIds) ?? [];
      const filter = (args.filter ?? {}) as Record<string, unknown>;
      const term = String(filter.text ?? filter.subject ?? filter.body ?? "");
      const rows = await load(ids(requested));
      const mark = (text: string | null) => {
        if (!text || !term) return null;
        const at = text.toLowerCase().indexOf(term.toLowerCase());
        if (at < 0) return null;
        const escape = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
        return escape(text.slice(Math.max(0, at - 60), at)) +
          `<mark>${escape(text.slice(at, at + term.length))}</mark>` +
          escape(text.slice(at + term.length, at + term.length + 100));
      };
      const list = rows.map((r) => ({
        emailId: emailId(r.id),
        subject: mark(r.subject),
        preview: mark(r.summary.preview),
      }));
      return {
        accountId: accountJmapId(account.id),
        list,
        // RFC 8621 §5.1: null when every id was found.
        notFound: requested.filter((id) => !list.some((l) => l.emailId === id)).length
          ? requested.filter((id) => !list.some((l) => l.emailId === id))
          : null,
      };
    },

    /** RFC 8621 §4.7 copies between accounts; a session here holds one account, so there is none to copy from. */
    async "Email/copy"(args: Record<string, unknown>) {
      checkAccount(args, account);
      throw new MethodError(
        "fromAccountNotFound",
        `No account ${String(args.fromAccountId)} is accessible; within one account, move with Email/set mailboxIds`,
      );
    },

    async "Thread/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return threadChanges(store, account, args);
    },

    async "Email/changes"(args: Record<string, unknown>) {
      checkAccount(args, account);
      return changesOf(store, account, "email", args, emailId);
    },

    async "Thread/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      const state = await accountState(store, account);
      const requested = Array.isArray(args.ids)
        ? (args.ids as unknown[]).filter((id): id is string => typeof id === "string")
        : [];
      const threads = requested.length
        ? await store.emails.threads(account.id, requested)
        : new Map<string, number[]>();
      const list = requested.filter((id) => threads.get(id)?.length).map((id) => ({
        id,
        emailIds: threads.get(id)!.map(emailId),
      }));
      return {
        accountId: accountJmapId(account.id),
        state,
        list,
        notFound: requested.filter((id) => !threads.get(id)?.length),
      };
    },
  };
}

/** `mailboxIds` keys and `mailboxIds/…` paths with "#creationId" put as the ids they stand for (RFC 8620 §5.3). */
function withRealMailboxIds(object: Record<string, unknown>, real: (id: string) => string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object ?? {})) {
    if (key === "mailboxIds" && typeof value === "object" && value !== null && !Array.isArray(value)) {
      out[key] = Object.fromEntries(Object.entries(value).map(([id, on]) => [real(id), on]));
    } else if (key.startsWith("mailboxIds/")) out[`mailboxIds/${real(key.slice("mailboxIds/".length))}`] = value;
    else out[key] = value;
  }
  return out;
}

/**
 * An Email/set update as the store takes it (RFC 8620 §5.3 patches): `keywords` whole or
 * `keywords/<k>`, `mailboxIds` whole or `mailboxIds/<id>`. A string is why it is invalid.
 */
function parsePatch(
  email: EmailView,
  patch: Record<string, unknown>,
  boxes: Set<number>,
): { keywords?: KeywordChange[]; mailboxIds?: number[] } | string {
  const keywords: KeywordChange[] = [];
  const add: string[] = [];
  const remove: string[] = [];
  let whole: number[] | null = null;
  const join: number[] = [];
  const leave: number[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === "keywords") {
      if (
        typeof value !== "object" || value === null || Array.isArray(value) ||
        Object.values(value).some((v) => v !== true)
      ) return "keywords must be an object of true values";
      keywords.push({ mode: "set", flags: Object.keys(value).map(flagOf) });
    } else if (key.startsWith("keywords/")) {
      if (value !== true && value !== null) return `${key} must be true or null`;
      (value === true ? add : remove).push(flagOf(key.slice("keywords/".length)));
    } else if (key === "mailboxIds") {
      whole = targetMailboxes(value, boxes);
      if (!whole) return "mailboxIds must name at least one mailbox of this account";
    } else if (key.startsWith("mailboxIds/")) {
      const id = parseId("MB", key.slice("mailboxIds/".length));
      if (id === null || !boxes.has(id)) return `${key}: no such mailbox in this account`;
      if (value !== true && value !== null) return `${key} must be true or null`;
      (value === true ? join : leave).push(id);
    } else return `${key} cannot be changed`;
  }
  if (keywords.length && (add.length || remove.length)) return "keywords and keywords/… cannot be patched together";
  if (whole && (join.length || leave.length)) return "mailboxIds and mailboxIds/… cannot be patched together";
  if (add.length) keywords.push({ mode: "add", flags: add });
  if (remove.length) keywords.push({ mode: "remove", flags: remove });
  let mailboxIds: number[] | undefined = whole ?? undefined;
  if (join.length || leave.length) {
    mailboxIds = [...new Set([...email.mailboxIds, ...join])].filter((id) => !leave.includes(id));
    if (mailboxIds.length === 0) return "An email must stay in at least one mailbox";
  }
  return { ...(keywords.length ? { keywords } : {}), ...(mailboxIds ? { mailboxIds } : {}) };
}
