/** What every store-using command needs: the config and a migrated store. */
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { Store } from "../store/store.ts";

export async function openStore(configFile: string | undefined): Promise<{ config: Config; store: Store }> {
  const config = loadConfig({ file: configFile });
  const store = await Store.open(config.database);
  await store.migrate();
  return { config, store };
}

export async function withStore<T>(
  configFile: string | undefined,
  fn: (store: Store, config: Config) => Promise<T>,
): Promise<T> {
  const { config, store } = await openStore(configFile);
  try {
    return await fn(store, config);
  } finally {
    store.close();
  }
}
