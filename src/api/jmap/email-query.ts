/**
 * Email/query: the filter conditions and sorts of RFC 8621 §4.4, and the SQL fast path for the
 * list view.
 */
import { asc, desc, eq, inArray, sql } from "drizzle-orm";
import type { MessageSummary } from "../../mime/summary.ts";
import { messages } from "../../store/schema.ts";
import type { Store } from "../../store/store.ts";
import { emailId, keywordsOf } from "./email.ts";
import { accountJmapId, accountState, type JmapAccount, mailboxId, parseId } from "./mailbox.ts";
import { MethodError } from "./request.ts";

type Row = typeof messages.$inferSelect;

/**
 * The common list view — one mailbox (or all), newest first, no other filter — straight from
 * SQL by the index, without loading every summary of the account.
 */
export async function fastQuery(store: Store, account: JmapAccount, args: Record<string, unknown>) {
  const filter = args.filter as Record<string, unknown> | undefined | null;
  const keys = filter ? Object.keys(filter) : [];
  const sort = args.sort as Array<{ property: string; isAscending?: boolean }> | undefined;
  const byDate = !sort || sort.length === 0 || (sort.length === 1 && sort[0]!.property === "receivedAt");
  if (!byDate || args.collapseThreads === true || keys.some((k) => k !== "inMailbox")) return null;
  const boxes = (await store.mailboxes.list(account.id)).map((b) => b.id);
  const only = filter?.inMailbox === undefined ? null : parseId("MB", filter.inMailbox);
  if (filter?.inMailbox !== undefined && (only === null || !boxes.includes(only))) return null;
  const scope = only !== null ? eq(messages.mailboxId, only) : inArray(messages.mailboxId, boxes.length ? boxes : [0]);
  const ascending = sort?.[0]?.isAscending === true;
  const position = typeof args.position === "number" ? Math.max(0, args.position) : 0;
  const limit = typeof args.limit === "number" ? Math.max(0, Math.min(args.limit, 1000)) : 1000;
  const rows = await store.db
    .select({ id: messages.id })
    .from(messages)
    .where(scope)
    .orderBy(ascending ? asc(messages.internalDate) : desc(messages.internalDate), ascending ? asc(messages.id) : desc(messages.id))
    .limit(limit)
    .offset(position);
  const total = args.calculateTotal === true ? Number((await store.db.select({ n: sql<number>`count(*)` }).from(messages).where(scope))[0]!.n) : undefined;
  return {
    accountId: accountJmapId(account.id), queryState: await accountState(store, account), canCalculateChanges: true, position,
    ids: rows.map((r) => emailId(r.id)), ...(total !== undefined ? { total } : {}), limit,
  };
}

export type Filter = Record<string, unknown> & { operator?: "AND" | "OR" | "NOT"; conditions?: Filter[] };

export function matchesFilter(row: Row, filter: Filter): boolean {
  if (filter.operator) {
    const results = (filter.conditions ?? []).map((f) => matchesFilter(row, f));
    return filter.operator === "AND" ? results.every(Boolean) : filter.operator === "OR" ? results.some(Boolean) : !results.some(Boolean);
  }
  const s = row.summary as unknown as MessageSummary;
  const has = (text: string | null | undefined, needle: unknown) => typeof needle === "string" && (text ?? "").toLowerCase().includes(needle.toLowerCase());
  const addresses = (list: MessageSummary["from"] | undefined) => (list ?? []).map((a) => `${a.name ?? ""} <${a.email}>`).join(", ");
  for (const [key, value] of Object.entries(filter)) {
    switch (key) {
      case "inMailbox": if (mailboxId(row.mailboxId) !== value) return false; break;
      case "inMailboxOtherThan": if ((value as string[]).includes(mailboxId(row.mailboxId))) return false; break;
      case "before": if (!(row.internalDate.getTime() < Date.parse(value as string))) return false; break;
      case "after": if (!(row.internalDate.getTime() >= Date.parse(value as string))) return false; break;
      case "minSize": if (row.size < (value as number)) return false; break;
      case "maxSize": if (row.size >= (value as number)) return false; break;
      case "hasKeyword": if (!keywordsOf(row.flags)[(value as string).toLowerCase()]) return false; break;
      case "notKeyword": if (keywordsOf(row.flags)[(value as string).toLowerCase()]) return false; break;
      case "hasAttachment": if (s.hasAttachment !== value) return false; break;
      case "from": if (!has(addresses(s.from), value)) return false; break;
      case "to": if (!has(addresses(s.to), value)) return false; break;
      case "cc": if (!has(addresses(s.cc), value)) return false; break;
      case "subject": if (!has(s.subject, value)) return false; break;
      case "text": if (!(has(s.subject, value) || has(s.preview, value) || has(addresses(s.from), value) || has(addresses(s.to), value))) return false; break;
      case "body": if (!has(s.preview, value)) return false; break;
      default: throw new MethodError("unsupportedFilter", `Filter ${key} is not supported`);
    }
  }
  return true;
}

export function compare(a: Row, b: Row, property: string): number {
  const sa = a.summary as unknown as MessageSummary;
  const sb = b.summary as unknown as MessageSummary;
  switch (property) {
    case "receivedAt": return a.internalDate.getTime() - b.internalDate.getTime();
    case "sentAt": return (sa.sentAt ?? 0) - (sb.sentAt ?? 0);
    case "size": return a.size - b.size;
    case "subject": return (a.subject ?? "").localeCompare(b.subject ?? "");
    case "from": return (sa.from?.[0]?.email ?? "").localeCompare(sb.from?.[0]?.email ?? "");
    case "to": return (sa.to?.[0]?.email ?? "").localeCompare(sb.to?.[0]?.email ?? "");
    default: throw new MethodError("unsupportedSort", `Sort by ${property} is not supported`);
  }
}
