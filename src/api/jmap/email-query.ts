/**
 * Email/query: the filter conditions and sorts of RFC 8621 §4.4 over the store's email views, and
 * the indexed fast path for the list view.
 */
import { decodeEncodedWords, type HeaderField, parseHeaderFields, splitHeaderBody } from "../../mime/header.ts";
import type { MessageSummary } from "../../mime/summary.ts";
import type { EmailView } from "../../store/emails.ts";
import type { Store } from "../../store/store.ts";
import { emailId, keywordsOf } from "./email.ts";
import { accountJmapId, accountState, type JmapAccount, mailboxId, parseId } from "./mailbox.ts";
import { isPlainWindow, MAX_QUERY_LIMIT } from "./query-window.ts";
import { MethodError } from "./request.ts";

/**
 * The common list view — one mailbox (or all), by received time, no other filter, conversations
 * collapsed or not — straight from the store's index, without loading every summary of the account.
 */
export async function fastQuery(store: Store, account: JmapAccount, args: Record<string, unknown>) {
  const filter = args.filter as Record<string, unknown> | undefined | null;
  const keys = filter ? Object.keys(filter) : [];
  const sort = args.sort as Array<{ property: string; isAscending?: boolean }> | undefined;
  const byDate = !sort || sort.length === 0 || (sort.length === 1 && sort[0]!.property === "receivedAt");
  if (!byDate || keys.some((k) => k !== "inMailbox")) return null;
  // Anchors and positions from the end need the whole list: the general path.
  if (!isPlainWindow(args)) return null;
  const boxes = (await store.mailboxes.list(account.id)).map((b) => b.id);
  const only = filter?.inMailbox === undefined ? null : parseId("MB", filter.inMailbox);
  if (filter?.inMailbox !== undefined && (only === null || !boxes.includes(only))) return null;
  // RFC 8620 §5.5: isAscending defaults to true; with no sort at all, newest first.
  const ascending = sort?.length ? sort[0]!.isAscending !== false : false;
  const position = typeof args.position === "number" ? args.position : 0;
  const asked = typeof args.limit === "number" ? args.limit : null;
  const limit = Math.min(asked ?? MAX_QUERY_LIMIT, MAX_QUERY_LIMIT);
  const queryState = await accountState(store, account);
  const page = await store.emails.page(account.id, {
    mailboxId: only,
    ascending,
    position,
    limit,
    total: args.calculateTotal === true,
    // RFC 8621 §4.4.3: one email per thread, the first in the sort order (src/store/thread-page.ts).
    collapseThreads: args.collapseThreads === true,
  });
  const total = page.total;
  return {
    accountId: accountJmapId(account.id),
    queryState,
    canCalculateChanges: args.collapseThreads !== true,
    position,
    ids: page.ids.map(emailId),
    ...(total !== undefined ? { total } : {}),
    // RFC 8620 §5.5: limit is returned when the server lowered it.
    ...(asked === null || asked > MAX_QUERY_LIMIT ? { limit } : {}),
  };
}

export type Filter = Record<string, unknown> & { operator?: "AND" | "OR" | "NOT"; conditions?: Filter[] };

/** RFC 8620 §5.5 Comparator, with the `keyword` of RFC 8621 §4.4.2's keyword sorts. */
export type Comparator = { property: string; isAscending?: boolean; keyword?: string };

/** What conditions and sorts need beyond the email itself. */
export interface QueryContext {
  /** Every email of the account by thread (the *InThread* conditions and sorts). */
  threads: Map<string, EmailView[]>;
  /** The header fields of each email, read only when a `header` condition asks (by email id). */
  headers: Map<number, HeaderField[]>;
}

/** Whether a condition with this key appears anywhere in the filter. */
function uses(filter: Filter, key: string): boolean {
  return filter.operator ? (filter.conditions ?? []).some((f) => uses(f, key)) : key in filter;
}

/** Whether the results hang on whole threads: collapseThreads, or an *InThread* condition or sort. */
export function threadWide(args: Record<string, unknown>): boolean {
  const filter = (args.filter ?? null) as Filter | null;
  const sort = Array.isArray(args.sort) ? (args.sort as Comparator[]) : [];
  return args.collapseThreads === true ||
    ["allInThreadHaveKeyword", "someInThreadHaveKeyword", "noneInThreadHaveKeyword"].some((key) =>
      (filter !== null && uses(filter, key)) || sort.some((c) => c.property === key)
    );
}

/** Every id the query matches, in order (RFC 8621 §4.4), one per thread with collapseThreads. */
export async function queryEmails(
  store: Store,
  account: JmapAccount,
  args: Record<string, unknown>,
): Promise<string[]> {
  const all = await store.emails.all(account.id);
  const context: QueryContext = { threads: new Map(), headers: new Map() };
  for (const row of all) context.threads.set(row.threadId, [...(context.threads.get(row.threadId) ?? []), row]);
  const filter = (args.filter ?? null) as Filter | null;
  if (filter && uses(filter, "header")) {
    for (const row of all) {
      const raw = (await store.emails.readBlob(row.blobHash)) ?? new Uint8Array();
      context.headers.set(row.id, parseHeaderFields(raw.subarray(0, splitHeaderBody(raw).headerEnd)));
    }
  }
  let rows = filter ? all.filter((r) => matchesFilter(r, filter, context)) : all;
  const sort = Array.isArray(args.sort) && args.sort.length
    ? (args.sort as Comparator[])
    : [{ property: "receivedAt", isAscending: false }];
  // Ties go by id in the first sort's direction, as in the indexed list view (fastQuery).
  const tie = sort[0]!.isAscending === false ? -1 : 1;
  rows.sort((a, b) => {
    for (const comparator of sort) {
      const d = compare(a, b, comparator, context);
      if (d !== 0) return comparator.isAscending !== false ? d : -d;
    }
    return tie * (a.id - b.id);
  });
  if (args.collapseThreads === true) {
    const seen = new Set<string>();
    rows = rows.filter((r) => (seen.has(r.threadId) ? false : (seen.add(r.threadId), true)));
  }
  return rows.map((r) => emailId(r.id));
}

const hasKeyword = (email: EmailView, keyword: unknown) =>
  typeof keyword === "string" && keywordsOf(email.flags)[keyword.toLowerCase()] === true;

/** RFC 8621 §4.4.1 header: [name] matches a field of that name, [name, value] one whose value contains it. */
function matchesHeader(fields: readonly HeaderField[], [name, text]: string[]): boolean {
  const lower = name!.toLowerCase();
  return fields.some((f) =>
    f.lowerName === lower &&
    (text === undefined || decodeEncodedWords(f.value).toLowerCase().includes(text.toLowerCase()))
  );
}

export function matchesFilter(email: EmailView, filter: Filter, context: QueryContext): boolean {
  if (filter.operator) {
    const results = (filter.conditions ?? []).map((f) => matchesFilter(email, f, context));
    return filter.operator === "AND"
      ? results.every(Boolean)
      : filter.operator === "OR"
      ? results.some(Boolean)
      : !results.some(Boolean);
  }
  const s = email.summary;
  const has = (text: string | null | undefined, needle: unknown) =>
    typeof needle === "string" && (text ?? "").toLowerCase().includes(needle.toLowerCase());
  const addresses = (list: MessageSummary["from"] | undefined) =>
    (list ?? []).map((a) => `${a.name ?? ""} <${a.email}>`).join(", ");
  const thread = () => context.threads.get(email.threadId) ?? [email];
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case "inMailbox":
        if (!email.mailboxIds.some((id) => mailboxId(id) === value)) return false;
        break;
      // RFC 8621 §4.4.1: in at least one mailbox that is not in the list.
      case "inMailboxOtherThan":
        if (!email.mailboxIds.some((id) => !(value as string[]).includes(mailboxId(id)))) return false;
        break;
      case "before":
        if (!(email.receivedAt.getTime() < Date.parse(value as string))) return false;
        break;
      case "after":
        if (!(email.receivedAt.getTime() >= Date.parse(value as string))) return false;
        break;
      case "minSize":
        if (email.size < (value as number)) return false;
        break;
      case "maxSize":
        if (email.size >= (value as number)) return false;
        break;
      case "hasKeyword":
        if (!hasKeyword(email, value)) return false;
        break;
      case "notKeyword":
        if (hasKeyword(email, value)) return false;
        break;
      // RFC 8621 §4.4.1: over every email in the same thread as this one.
      case "allInThreadHaveKeyword":
        if (!thread().every((e) => hasKeyword(e, value))) return false;
        break;
      case "someInThreadHaveKeyword":
        if (!thread().some((e) => hasKeyword(e, value))) return false;
        break;
      case "noneInThreadHaveKeyword":
        if (thread().some((e) => hasKeyword(e, value))) return false;
        break;
      case "header":
        if (!matchesHeader(context.headers.get(email.id) ?? [], value as string[])) return false;
        break;
      case "hasAttachment":
        if (s.hasAttachment !== value) return false;
        break;
      case "from":
        if (!has(addresses(s.from), value)) return false;
        break;
      case "to":
        if (!has(addresses(s.to), value)) return false;
        break;
      case "cc":
        if (!has(addresses(s.cc), value)) return false;
        break;
      case "subject":
        if (!has(s.subject, value)) return false;
        break;
      case "text":
        if (
          !(has(s.subject, value) || has(s.preview, value) || has(addresses(s.from), value) ||
            has(addresses(s.to), value))
        ) return false;
        break;
      case "body":
        if (!has(s.preview, value)) return false;
        break;
      default:
        throw new MethodError("unsupportedFilter", `Filter ${key} is not supported`);
    }
  }
  return true;
}

export function compare(a: EmailView, b: EmailView, comparator: Comparator, context: QueryContext): number {
  const sa = a.summary;
  const sb = b.summary;
  const { property, keyword } = comparator;
  // RFC 8621 §4.4.2: the keyword sorts count an email having it as greater.
  const byKeyword = (test: (e: EmailView) => boolean) => Number(test(a)) - Number(test(b));
  const inThread = (e: EmailView) => context.threads.get(e.threadId) ?? [e];
  if (property.endsWith("Keyword") && typeof keyword !== "string") {
    throw new MethodError("invalidArguments", `sort by ${property} needs a keyword`);
  }
  switch (property) {
    case "hasKeyword":
      return byKeyword((e) => hasKeyword(e, keyword));
    case "allInThreadHaveKeyword":
      return byKeyword((e) => inThread(e).every((t) => hasKeyword(t, keyword)));
    case "someInThreadHaveKeyword":
      return byKeyword((e) => inThread(e).some((t) => hasKeyword(t, keyword)));
    case "receivedAt":
      return a.receivedAt.getTime() - b.receivedAt.getTime();
    case "sentAt":
      return (sa.sentAt ?? 0) - (sb.sentAt ?? 0);
    case "size":
      return a.size - b.size;
    case "subject":
      return (a.subject ?? "").localeCompare(b.subject ?? "");
    case "from":
      return (sa.from?.[0]?.email ?? "").localeCompare(sb.from?.[0]?.email ?? "");
    case "to":
      return (sa.to?.[0]?.email ?? "").localeCompare(sb.to?.[0]?.email ?? "");
    default:
      throw new MethodError("unsupportedSort", `Sort by ${property} is not supported`);
  }
}
