/**
 * The delivery path's statements, run on the write transaction's own connection (issue 15: "statements prepared once
 * and reused; drop drizzle on the hot path where its query building costs more than the statement").
 *
 * Through drizzle and @libsql/client, each of them cost more in JavaScript than in SQLite: drizzle builds the query
 * from its template every time, the client converts every argument and turns each row into an object with a property
 * per column, and drizzle maps the rows once more. Here a statement is a fixed SQL text with `?` parameters; on an
 * embedded database it runs as the connection's kept statement (connections.ts), its rows read as arrays. On a libSQL
 * server, or outside a write transaction, the same text and arguments go through drizzle.
 */
import { type SQL, sql } from "drizzle-orm";
import type { StoreStats, Tx } from "./db.ts";
import { claimed, claimText, type HeldConnection, type PreparedStatement } from "./connections.ts";

const held = new WeakMap<object, HeldConnection & { stats: StoreStats }>();

/**
 * Called by the store as its write transaction `tx` begins: statements run through `tx` then go to the connection
 * that holds it, counted in `stats`. That connection is found by running an SQL comment through the transaction (the
 * driver exposes no other way), which SQLite never sees, so it is not counted as a statement.
 */
export async function holdConnection(tx: Tx, stats: StoreStats): Promise<void> {
  const text = claimText();
  await tx.run(sql.raw(text));
  stats.statements--;
  const connection = claimed(text);
  if (connection) held.set(tx, { prepare: (t) => connection.prepare(t), stats });
}

function statement(tx: Tx, text: string): PreparedStatement | null {
  const h = held.get(tx);
  if (!h) return null;
  h.stats.statements++;
  // Integers as numbers (and rows as arrays, below): set once on the kept statement, so later calls change no mode.
  return h.prepare(text).safeIntegers(false);
}

/** A statement that returns no rows; resolves to the number of rows it changed. Arguments: numbers, strings, null, Buffers. */
export async function runStatement(tx: Tx, text: string, args: readonly unknown[]): Promise<number> {
  const prepared = statement(tx, text);
  if (prepared) return prepared.run(args).changes;
  const result = await tx.run(withArgs(text, args));
  return result.rowsAffected;
}

/** A statement that returns rows (a SELECT, an INSERT … RETURNING), each an array in the order of its columns. */
export async function rowsOf(tx: Tx, text: string, args: readonly unknown[]): Promise<unknown[][]> {
  const prepared = statement(tx, text);
  if (prepared) return prepared.raw(true).all(args);
  // The client's rows are array-like objects.
  return (await tx.values(withArgs(text, args))).map((row) => Array.from(row as ArrayLike<unknown>));
}

/** `text` with its `?` placeholders bound to `args`, as a drizzle query (no `?` may appear in a literal). */
function withArgs(text: string, args: readonly unknown[]): SQL {
  const parts = text.split("?");
  if (parts.length !== args.length + 1) throw new Error(`${args.length} arguments for ${parts.length - 1} parameters`);
  return sql.join(parts.flatMap((part, i) => (i < args.length ? [sql.raw(part), sql`${args[i]}`] : [sql.raw(part)])));
}
