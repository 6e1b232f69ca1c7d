/**
 * Checkpoints on a thread of their own (src/store/checkpointer.ts): once a store checkpoints in the background, its
 * connections never checkpoint on the JavaScript thread, and the WAL is still copied back and restarted, so it does
 * not grow with the mail written.
 */
import { afterEach, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { openTempStore } from "../helpers/store.ts";
import { until } from "../helpers/until.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const walBytes = (path: string) => statSync(`${path}/postern.db-wal`, { throwIfNoEntry: false })?.size ?? 0;

test("the store's connections stop checkpointing and a worker thread keeps the WAL bounded", async () => {
  const temp = await openTempStore();
  cleanups.push(temp.cleanup);
  const { store } = temp;
  await store.domains.add("example.test");
  const accountId = (await store.accounts.add({ address: "u@example.test", password: "long enough password" })).id;
  const inbox = (await store.mailboxes.byName(accountId, "INBOX"))!;
  store.checkpointInBackground();
  expect(Number(await store.pragma("wal_autocheckpoint"))).toBe(0);

  // 80 MiB of mail in 160 commits: more than twice the WAL size at which the checkpointer restarts the WAL (32 MiB).
  const filler = "x".repeat(76) + "\r\n";
  let peak = 0;
  for (let i = 0; i < 160; i++) {
    const raw = new TextEncoder().encode(`Subject: ${i}\r\nMessage-ID: <${i}@t>\r\n\r\n${filler.repeat(6500)}${i}\r\n`);
    const appended = await store.mail.append({ accountId, mailboxId: inbox.id, raw, checkQuota: false });
    expect(appended).not.toBe("overQuota");
    peak = Math.max(peak, walBytes(temp.path));
    await Bun.sleep(5); // the checkpointer runs at most every 250 ms while writes go on
  }
  expect(peak).toBeLessThan(64 * 1024 * 1024);
  // Everything committed is readable, and the checkpoints copied it into the database file, which grew.
  expect(await temp.count("messages")).toBe(160);
  await until(
    "the database file to hold the checkpointed mail",
    () => statSync(`${temp.path}/postern.db`).size > 40 * 1024 * 1024 ? true : undefined,
  );
}, 60_000);
