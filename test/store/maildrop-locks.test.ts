/**
 * POP3 maildrop locks in the database (src/store/maildrop-locks.ts) and the liveness of lock
 * owners (src/util/owner.ts): what makes one maildrop open in one session across processes.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { spawn } from "node:child_process";
import { hostname } from "node:os";
import { Store } from "../../src/store/store.ts";
import { ownerIsGone } from "../../src/util/owner.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let path: string;
let cleanup: () => void;
let accountId: number;

beforeEach(async () => {
  ({ store, path, cleanup } = await openTempStore());
  await store.domains.add("example.test");
  accountId = (await store.accounts.add({ address: "u@example.test", password: "long enough password" })).id;
});
afterEach(() => {
  store.close();
  cleanup();
});

const inMinutes = (n: number) => new Date(Date.now() + n * 60_000);

describe("maildrop locks", () => {
  test("a second owner is refused, in this process or another store on the database, until the first releases", async () => {
    const other = await Store.open({ url: `file:${path}/postern.db` });
    try {
      expect(await store.maildrops.take(accountId, "a#1", inMinutes(1))).toBe(true);
      expect(await store.maildrops.take(accountId, "a#2", inMinutes(1))).toBe(false);
      expect(await other.maildrops.take(accountId, "b#1", inMinutes(1))).toBe(false);
      // Releasing someone else's lock does nothing.
      await other.maildrops.release(accountId, "b#1");
      expect((await store.maildrops.holder(accountId))?.owner).toBe("a#1");
      await store.maildrops.release(accountId, "a#1");
      expect(await other.maildrops.take(accountId, "b#1", inMinutes(1))).toBe(true);
    } finally {
      other.close();
    }
  });

  test("a lock that lapsed is taken over; renewal keeps a live owner's locks", async () => {
    expect(await store.maildrops.take(accountId, "a:1:x#1", new Date(Date.now() + 50))).toBe(true);
    await store.maildrops.renew("a:1:x#", inMinutes(1));
    await Bun.sleep(80);
    expect(await store.maildrops.take(accountId, "b#1", inMinutes(1))).toBe(false);
    expect(await store.maildrops.take(accountId, "a:1:x#2", new Date(Date.now() + 50))).toBe(false);
    await store.maildrops.release(accountId, "a:1:x#1");
    expect(await store.maildrops.take(accountId, "a#9", new Date(Date.now() + 50))).toBe(true);
    await Bun.sleep(80);
    expect(await store.maildrops.take(accountId, "b#1", inMinutes(1))).toBe(true);
  });

  test("`from` takes over a named owner's lock at once, and only that owner's", async () => {
    expect(await store.maildrops.take(accountId, "dead#1", inMinutes(5))).toBe(true);
    expect(await store.maildrops.take(accountId, "new#1", inMinutes(5), "someone-else#1")).toBe(false);
    expect(await store.maildrops.take(accountId, "new#1", inMinutes(5), "dead#1")).toBe(true);
    expect((await store.maildrops.holder(accountId))?.owner).toBe("new#1");
  });
});

describe("owners", () => {
  test("a process of this host that exited is gone; this one, a live one and another host's are not", async () => {
    const child = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    const pid = child.pid!;
    expect(ownerIsGone(`${hostname()}:${pid}:abcd#3`)).toBe(false);
    child.kill("SIGKILL");
    await new Promise((resolve) => child.once("exit", resolve));
    expect(ownerIsGone(`${hostname()}:${pid}:abcd#3`)).toBe(true);
    expect(ownerIsGone(store.instanceId)).toBe(false);
    expect(ownerIsGone(`another-host.test:${pid}:abcd`)).toBe(false);
  });
});
