/**
 * Applies the embedded migrations in order, each in its own transaction, recording each by tag.
 * Running it again is a no-op. A database whose ledger names a migration this build does not know
 * was made by a newer build: it is refused with `SchemaTooNewError` before anything is applied.
 */
import type { Client } from "@libsql/client";
import { SchemaTooNewError } from "./errors.ts";
import { MIGRATIONS } from "./migrations.generated.ts";

const LEDGER = "__postern_migrations";

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export async function migrate(client: Client, migrations = MIGRATIONS): Promise<MigrationResult> {
  await client.execute(
    `CREATE TABLE IF NOT EXISTS ${LEDGER} (tag TEXT PRIMARY KEY NOT NULL, applied_at INTEGER NOT NULL)`,
  );
  const done = new Set((await client.execute(`SELECT tag FROM ${LEDGER}`)).rows.map((r) => String(r.tag)));
  checkNotNewer(done, migrations);
  const result: MigrationResult = { applied: [], skipped: [] };
  for (const m of migrations) {
    if (done.has(m.tag)) {
      result.skipped.push(m.tag);
      continue;
    }
    const statements = m.sql
      .split("--> statement-breakpoint")
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    // batch() runs the statements and the ledger row in one transaction: all or nothing.
    await client.batch(
      [...statements, { sql: `INSERT INTO ${LEDGER} (tag, applied_at) VALUES (?, ?)`, args: [m.tag, Date.now()] }],
      "write",
    );
    result.applied.push(m.tag);
  }
  return result;
}

/** Throws `SchemaTooNewError` when `recorded` holds a tag that is not among `migrations`. */
function checkNotNewer(recorded: Iterable<string>, migrations: readonly { tag: string }[] = MIGRATIONS): void {
  const known = new Set(migrations.map((m) => m.tag));
  const unknown = [...recorded].filter((tag) => !known.has(tag)).sort(byTag);
  if (unknown.length === 0) return;
  throw new SchemaTooNewError(unknown[unknown.length - 1]!, migrations[migrations.length - 1]?.tag, unknown);
}

/** Tags are `<number>_<name>` (drizzle-kit): order by the number, then by the whole tag. */
function byTag(a: string, b: string): number {
  return (parseInt(a, 10) || 0) - (parseInt(b, 10) || 0) || (a < b ? -1 : a > b ? 1 : 0);
}
