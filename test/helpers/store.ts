import { type Client, createClient } from "@libsql/client";
import { Store } from "../../src/store/store.ts";
import { tempDir } from "./tmp.ts";

/**
 * A migrated store in a fresh temporary directory; `sql` reads the same database through a
 * connection of its own (tests inspect rows; Postern code never does outside src/store);
 * `cleanup` closes both and removes the directory.
 */
export async function openTempStore(): Promise<{
  store: Store;
  path: string;
  sql: (query: string, args?: Array<string | number>) => Promise<Record<string, unknown>[]>;
  count: (table: string) => Promise<number>;
  cleanup: () => void;
}> {
  const dir = tempDir();
  const store = await Store.open({ url: `file:${dir.path}/postern.db` });
  await store.migrate();
  let client: Client | null = null;
  const sql = async (query: string, args: Array<string | number> = []) => {
    client ??= createClient({ url: `file:${dir.path}/postern.db` });
    return (await client.execute({ sql: query, args })).rows.map((r) => ({ ...r }));
  };
  return {
    store,
    path: dir.path,
    sql,
    count: async (table) => Number((await sql(`SELECT count(*) AS n FROM ${table}`))[0]!.n),
    cleanup: () => {
      client?.close();
      store.close();
      dir.cleanup();
    },
  };
}
