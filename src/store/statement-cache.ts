/**
 * Prepared statements, kept. The embedded driver (@libsql/client over the `libsql` package)
 * prepares every statement it executes anew, and on the delivery path that preparing cost as
 * much as running the statements. The same few SQL texts come back all the time (drizzle builds
 * the same text for the same query shape), so each connection keeps its most recently used
 * statements and hands them out again. A `libsql` statement can be run any number of times, with
 * new parameters each time; SQLite prepares it again by itself after a schema change.
 */
import Database from "libsql";

/** Statements kept per connection; the least recently used goes first. */
const STATEMENTS_PER_CONNECTION = 256;

type Prepare = (this: object, sql: string) => unknown;

const cached = new WeakMap<object, Map<string, unknown>>();
let installed = false;

/** Installs the cache on every embedded connection (once per process; idempotent). */
export function cachePreparedStatements(): void {
  if (installed) return;
  installed = true;
  const proto = Database.prototype as unknown as { prepare: Prepare };
  const prepare = proto.prepare;
  proto.prepare = function (this: object, sql: string) {
    let statements = cached.get(this);
    if (!statements) cached.set(this, statements = new Map());
    const hit = statements.get(sql);
    if (hit !== undefined) {
      // Most recently used last.
      statements.delete(sql);
      statements.set(sql, hit);
      return hit;
    }
    const statement = prepare.call(this, sql);
    statements.set(sql, statement);
    if (statements.size > STATEMENTS_PER_CONNECTION) statements.delete(statements.keys().next().value!);
    return statement;
  };
}
