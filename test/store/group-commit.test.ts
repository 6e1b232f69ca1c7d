import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { domains } from "../../src/store/schema.ts";
import { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let dir: { path: string };
let cleanup: () => void;

beforeEach(async () => {
  const temp = await openTempStore();
  store = temp.store;
  dir = { path: temp.path };
  cleanup = temp.cleanup;
});
afterEach(() => cleanup());

const names = async () => (await store.domains.list()).map((d) => d.name).sort();

describe("group commit", () => {
  test("writes queued together commit together, and a failing one rolls back alone", async () => {
    const results = await Promise.allSettled(
      ["a.test", "b.test", "bad", "c.test"].map((name) =>
        store.write(async (tx) => {
          await tx.insert(domains).values({ name });
          if (name === "bad") throw new Error("refused after writing");
          return name;
        })
      ),
    );
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected", "fulfilled"]);
    expect((results[2] as PromiseRejectedResult).reason.message).toBe("refused after writing");
    expect(await names()).toEqual(["a.test", "b.test", "c.test"]);
  });

  test("a write sees the writes queued before it in the same batch", async () => {
    const first = store.write((tx) => tx.insert(domains).values({ name: "first.test" }));
    const count = store.write(async (tx) => (await tx.select().from(domains)).length);
    await first;
    expect(await count).toBe(1);
  });

  test("a promise settles only after its data is committed and visible to other readers", async () => {
    const other = await Store.open({ url: `file:${dir.path}/postern.db` });
    try {
      const writes = Array.from(
        { length: 20 },
        (_, i) =>
          store.write((tx) => tx.insert(domains).values({ name: `d${i}.test` })).then(async () => {
            const seen = await other.domains.list();
            return seen.some((d) => d.name === `d${i}.test`);
          }),
      );
      expect(await Promise.all(writes)).toEqual(Array(20).fill(true));
    } finally {
      other.close();
    }
  });
});
