/**
 * The delivery path's statements run on the write transaction's own connection (src/store/prepared.ts): they commit
 * and roll back with it, are counted, and give the same rows as through drizzle on a database without the embedded
 * driver's connections (an in-memory one here, as a libSQL server would be).
 */
import { afterEach, expect, test } from "bun:test";
import { summarize } from "../../src/mime/summary.ts";
import { appendEmail } from "../../src/store/append.ts";
import { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

const raw = (n: number) =>
  new TextEncoder().encode(
    `From: a@origin.test\r\nSubject: n${n}\r\nMessage-ID: <${n}@origin.test>\r\n\r\nbody ${n}\r\n`,
  );

async function withAccount(store: Store) {
  await store.domains.add("example.test");
  return (await store.accounts.add({ address: "u@example.test", password: "long enough password" })).id;
}

test("statements of a write that fails are rolled back with it; the others of its batch commit", async () => {
  const temp = await openTempStore();
  cleanups.push(temp.cleanup);
  const accountId = await withAccount(temp.store);
  const inbox = (await temp.store.mailboxes.byName(accountId, "INBOX"))!;
  const write = (n: number, fail: boolean) =>
    temp.store.write(async (tx, changes) => {
      const appended = await appendEmail(tx, changes, {
        accountId,
        mailbox: { role: "inbox" },
        raw: raw(n),
        summary: summarize(raw(n)),
      });
      if (fail) throw new Error("refused after appending");
      return appended.uid;
    });
  const results = await Promise.allSettled([write(1, false), write(2, true), write(3, false)]);
  expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
  const rows = await temp.sql("SELECT e.message_id AS id, m.uid FROM messages m JOIN emails e ON e.id = m.email_id");
  expect(rows.map((r) => r.id).sort()).toEqual(["1@origin.test", "3@origin.test"]);
  // The blob of the failed write went with it.
  expect(await temp.count("blobs")).toBe(2);
  const after = (await temp.store.mailboxes.byName(accountId, "INBOX"))!;
  expect(after.uidNext).toBeGreaterThan(inbox.uidNext);
});

test("a delivery costs three statements (blob, email, membership), counted", async () => {
  const temp = await openTempStore();
  cleanups.push(temp.cleanup);
  const accountId = await withAccount(temp.store);
  const inbox = (await temp.store.mailboxes.byName(accountId, "INBOX"))!;
  await temp.store.mail.append({ accountId, mailboxId: inbox.id, raw: raw(0), checkQuota: false });
  const before = temp.store.stats();
  await temp.store.mail.append({ accountId, mailboxId: inbox.id, raw: raw(1), checkQuota: false });
  const after = temp.store.stats();
  // BEGIN, the three, the mailbox's ownership check, COMMIT.
  expect(after.statements - before.statements).toBe(6);
  expect(after.commits - before.commits).toBe(1);
});

test("without the embedded driver's connections the same statements go through drizzle", async () => {
  const store = await Store.open({ url: ":memory:" });
  cleanups.push(() => store.close());
  await store.migrate();
  const accountId = await withAccount(store);
  const inbox = (await store.mailboxes.byName(accountId, "INBOX"))!;
  const first = await store.mail.append({ accountId, mailboxId: inbox.id, raw: raw(1) });
  const second = await store.mail.append({ accountId, mailboxId: inbox.id, raw: raw(2) });
  if (first === "overQuota" || second === "overQuota") throw new Error("over quota");
  expect([first.uid, second.uid]).toEqual([inbox.uidNext, inbox.uidNext + 1]);
  expect(second.modseq).toBeGreaterThan(first.modseq);
  expect(first.uidValidity).toBe(inbox.uidValidity);
  expect(typeof first.threadId).toBe("string");
});
