/**
 * Many rows read as one JSON value. The driver builds an object per row, which costs more than the
 * query itself when a read returns thousands (IMAP SELECT and STORE on a large mailbox);
 * `json_group_array` in SQLite and one `JSON.parse` here cost a fraction of that.
 */
import { type SQL, sql } from "drizzle-orm";
import type { Db, Tx } from "./db.ts";

/**
 * The rows of `query` as arrays of their columns (`columns`, an SQL list of the column
 * expressions in order), in no particular order: sort them if order matters. Text columns come
 * back as strings, numbers as numbers (integers stay exact below 2^53).
 */
export async function jsonRows<Row extends unknown[]>(db: Db | Tx, columns: SQL, from: SQL): Promise<Row[]> {
  const [row] = await db.all<{ rows: string | null }>(
    sql`SELECT json_group_array(json_array(${columns})) AS rows ${from}`,
  );
  return row?.rows ? (JSON.parse(row.rows) as Row[]) : [];
}
