/**
 * The list view with conversations collapsed (JMAP Email/query `collapseThreads`, RFC 8621 §4.4.3: of each thread
 * only the first email in the sort order): a window of a mailbox (or of the whole account) by received time, straight
 * from the indexes. A row is its thread's first when no other email of the thread in the same scope comes before it
 * (a NOT EXISTS over the thread index, `emails_account_thread`), so a page reads its window's rows and their threads,
 * not every summary of the mailbox; the total counts distinct threads over the date index.
 *
 * INDEXED BY and the CROSS JOIN fix SQLite's plan for the subquery: the thread's emails first (a few rows by the
 * thread index), then their membership by `messages_email`. Left to itself the planner walked the mailbox's date
 * index (or the account's) for every row, which took 18 s for a first page at 100,000 messages (docs/benchmarks.md).
 */
import { sql } from "drizzle-orm";
import type { Db } from "./db.ts";

export interface WindowOptions {
  /** The mailbox, or null for every email of the account. */
  mailboxId: number | null;
  ascending: boolean;
  position: number;
  limit: number;
  total: boolean;
}

export async function collapsedPage(
  db: Db,
  accountId: number,
  options: WindowOptions,
): Promise<{ ids: number[]; total?: number }> {
  // "Before" in the sort order: later first when descending. Ties on the date go by id, as in the flat list.
  const before = sql.raw(options.ascending ? "<" : ">");
  const direction = sql.raw(options.ascending ? "ASC" : "DESC");
  if (options.mailboxId !== null) {
    const rows = await db.all<{ id: number }>(sql`
      SELECT m.email_id AS id FROM messages m JOIN emails e ON e.id = m.email_id
      WHERE m.mailbox_id = ${options.mailboxId} AND NOT EXISTS (
        SELECT 1 FROM emails t INDEXED BY emails_account_thread CROSS JOIN messages tm ON tm.email_id = t.id AND tm.mailbox_id = m.mailbox_id
        WHERE t.account_id = e.account_id AND t.thread_id = e.thread_id AND t.id <> e.id
          AND (tm.internal_date ${before} m.internal_date
            OR (tm.internal_date = m.internal_date AND tm.email_id ${before} m.email_id)))
      ORDER BY m.internal_date ${direction}, m.email_id ${direction}
      LIMIT ${options.limit} OFFSET ${options.position}`);
    const total = options.total
      ? (await db.all<{ n: number }>(sql`
        SELECT count(DISTINCT e.thread_id) AS n FROM messages m JOIN emails e ON e.id = m.email_id
        WHERE m.mailbox_id = ${options.mailboxId}`))[0]!.n
      : undefined;
    return { ids: rows.map((r) => r.id), total };
  }
  const rows = await db.all<{ id: number }>(sql`
    SELECT e.id AS id FROM emails e
    WHERE e.account_id = ${accountId} AND NOT EXISTS (
      SELECT 1 FROM emails t INDEXED BY emails_account_thread
      WHERE t.account_id = e.account_id AND t.thread_id = e.thread_id AND t.id <> e.id
        AND (t.received_at ${before} e.received_at OR (t.received_at = e.received_at AND t.id ${before} e.id)))
    ORDER BY e.received_at ${direction}, e.id ${direction}
    LIMIT ${options.limit} OFFSET ${options.position}`);
  const total = options.total
    ? (await db.all<{ n: number }>(sql`
      SELECT count(DISTINCT thread_id) AS n FROM emails WHERE account_id = ${accountId}`))[0]!.n
    : undefined;
  return { ids: rows.map((r) => r.id), total };
}
