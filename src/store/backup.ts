/**
 * A consistent copy of a live database for `postern backup`: `VACUUM INTO` reads one snapshot
 * (a read transaction, so the server keeps writing meanwhile) and writes it, WAL frames included,
 * as a new self-contained database file. Copying the database file alone misses what is still in
 * the WAL (issue 20, item 7).
 */
import { createClient } from "@libsql/client";
import type { DatabaseOptions } from "./db.ts";

/** Writes a snapshot of the `file:` database to `target` (which must not exist). */
export async function snapshotDatabase(options: DatabaseOptions, target: string): Promise<void> {
  if (!options.url.startsWith("file:")) {
    throw new RangeError(
      `Cannot back up ${
        options.url.split("?")[0]
      }: only a file: database can be copied here; back up a libSQL server with its own tools`,
    );
  }
  const client = createClient({ url: options.url });
  try {
    // SQLite waits up to this long for the write lock another process holds while it starts its read.
    await client.execute("PRAGMA busy_timeout = 5000");
    await client.execute({ sql: "VACUUM INTO ?", args: [target] });
  } finally {
    client.close();
  }
}

/** Whether the file at `path` is a database this build can open: an integrity check and the migrations table. */
export async function checkDatabase(path: string): Promise<string> {
  const client = createClient({ url: `file:${path}` });
  try {
    const check = (await client.execute("PRAGMA quick_check")).rows[0]?.[0];
    if (check !== "ok") return `integrity check failed: ${String(check)}`;
    return "ok";
  } finally {
    client.close();
  }
}
