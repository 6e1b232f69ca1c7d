/**
 * Applies the embedded migrations in order, each in its own transaction, recording each by tag.
 * Running it again is a no-op.
 */
import type { Client } from "@libsql/client";
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
