import { loadConfig } from "../config/load.ts";
import { Store } from "../store/store.ts";
import { parse, UsageError } from "./args.ts";

export const MIGRATE_USAGE = "Usage: postern migrate [--config FILE]";

export async function migrateCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, MIGRATE_USAGE);
  if (positionals.length) throw new UsageError("migrate takes no arguments", MIGRATE_USAGE);
  const config = loadConfig({ file: values.config });
  const store = await Store.open(config.database);
  try {
    const result = await store.migrate();
    console.log(result.applied.length ? `applied ${result.applied.join(", ")}` : "database is up to date");
    return 0;
  } finally {
    store.close();
  }
}
