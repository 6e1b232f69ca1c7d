/**
 * Email/query: the filter conditions and sorts of RFC 8621 §4.4 over the store's email views, and
 * the indexed fast path for the list view.
 */
import type { MessageSummary } from "../../mime/summary.ts";
import type { EmailView } from "../../store/emails.ts";
import type { Store } from "../../store/store.ts";
import { emailId, keywordsOf } from "./email.ts";
import { accountJmapId, accountState, type JmapAccount, mailboxId, parseId } from "./mailbox.ts";
import { isPlainWindow, MAX_QUERY_LIMIT } from "./query-window.ts";
import { MethodError } from "./request.ts";

/**
 * The common list view — one mailbox (or all), by received time, no other filter — straight from
 * the store's index, without loading every summary of the account.
 */
export async function fastQuery(store: Store, account: JmapAccount, args: Record<string, unknown>) {
  const filter = args.filter as Record<string, unknown> | undefined | null;
  const keys = filter ? Object.keys(filter) : [];
  const sort = args.sort as Array<{ property: string; isAscending?: boolean }> | undefined;
  const byDate = !sort || sort.length === 0 || (sort.length === 1 && sort[0]!.property === "receivedAt");
  if (!byDate || args.collapseThreads === true || keys.some((k) => k !== "inMailbox")) return null;
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
  });
  const total = page.total;
  return {
    accountId: accountJmapId(account.id),
    queryState,
    canCalculateChanges: true,
    position,
    ids: page.ids.map(emailId),
    ...(total !== undefined ? { total } : {}),
    // RFC 8620 §5.5: limit is returned when the server lowered it.
    ...(asked === null || asked > MAX_QUERY_LIMIT ? { limit } : {}),
  };
}

export type Filter = Record<string, unknown> & { operator?: "AND" | "OR" | "NOT"; conditions?: Filter[] };

export function matchesFilter(email: EmailView, filter: Filter): boolean {
  if (filter.operator) {
    const results = (filter.conditions ?? []).map((f) => matchesFilter(email, f));
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
        if (!keywordsOf(email.flags)[(value as string).toLowerCase()]) return false;
        break;
      case "notKeyword":
        if (keywordsOf(email.flags)[(value as string).toLowerCase()]) return false;
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

export function compare(a: EmailView, b: EmailView, property: string): number {
  const sa = a.summary;
  const sb = b.summary;
  switch (property) {
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
