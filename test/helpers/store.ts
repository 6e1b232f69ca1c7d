import { Store } from "../../src/store/store.ts";
import { tempDir } from "./tmp.ts";

/** A migrated store in a fresh temporary directory; `cleanup` closes it and removes the directory. */
export async function openTempStore(): Promise<{ store: Store; path: string; cleanup: () => void }> {
  const dir = tempDir();
  const store = await Store.open({ url: `file:${dir.path}/postern.db` });
  await store.migrate();
  return {
    store,
    path: dir.path,
    cleanup: () => {
      store.close();
      dir.cleanup();
    },
  };
}
