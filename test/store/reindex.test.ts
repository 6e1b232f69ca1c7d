/**
 * The summary reindexer: stale emails get the summary this build computes (and the columns derived
 * from it), current ones are left alone, thread ids never change, nothing enters the change log,
 * and a run stopped after some batches continues with the next run.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { summarize, SUMMARY_VERSION } from "../../src/mime/summary.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let temp: Awaited<ReturnType<typeof openTempStore>>;
let store: Store;
let jo: number;
let kim: number;

beforeEach(async () => {
  temp = await openTempStore();
  store = temp.store;
  await store.domains.add("example.test");
  jo = (await store.accounts.add({ address: "jo@example.test", password: "long enough password" })).id;
  kim = (await store.accounts.add({ address: "kim@example.test", password: "long enough password" })).id;
});
afterEach(() => temp.cleanup());

const message = (n: number, extra = "") =>
  new TextEncoder().encode(
    `From: Sender ${n} <s${n}@remote.test>\r\nTo: jo@example.test\r\nSubject: message ${n}\r\nMessage-ID: <m${n}@remote.test>\r\n` +
      `Date: Mon, 2 Mar 2026 10:0${n % 10}:00 +0000\r\n${extra}\r\nbody of message ${n}\r\n`,
  );

/** Appends `n` messages to the account's INBOX; returns their email ids, oldest first. */
async function append(accountId: number, n: number, first = 1): Promise<number[]> {
  const inbox = (await store.mailboxes.byRole(accountId, "inbox"))!;
  const ids: number[] = [];
  for (let i = first; i < first + n; i++) {
    const done = await store.mail.append({ accountId, mailboxId: inbox.id, raw: message(i) });
    if (done === "overQuota") throw new Error("over quota");
    ids.push(done.emailId);
  }
  return ids;
}

/** Makes emails look as an older build left them: an old summary shape, version 0, derived columns empty. */
async function makeStale(ids: readonly number[], summary: object = {}): Promise<void> {
  for (const id of ids) {
    await temp.sql(
      "UPDATE emails SET summary = ?, summary_version = 0, subject = NULL, message_id = NULL, sent_at = NULL WHERE id = ?",
      [JSON.stringify(summary), id],
    );
  }
}

async function row(id: number) {
  const [r] = await temp.sql(
    "SELECT summary, summary_version, subject, message_id, sent_at, thread_id FROM emails WHERE id = ?",
    [id],
  );
  return r!;
}

describe("summary reindexer", () => {
  test("stale emails get this build's summary and derived columns; current ones are untouched", async () => {
    const ids = await append(jo, 4);
    const before = await Promise.all(ids.map(row));
    await makeStale([ids[0]!, ids[2]!], { size: 1, subject: "old shape", preview: "" });
    // A current row with a hand-made value: a reindex must not rewrite it.
    await temp.sql("UPDATE emails SET subject = 'kept as it is' WHERE id = ?", [ids[1]!]);
    const changesBefore = await temp.count("changes");
    const published: unknown[] = [];
    store.changes.subscribe(jo, (e) => void published.push(e));

    expect(await store.summaries.stale()).toBe(2);
    const result = await store.summaries.reindex();
    expect(result).toEqual({ scanned: 2, updated: 2, complete: true });
    expect(await store.summaries.stale()).toBe(0);

    for (const i of [0, 2]) {
      const r = await row(ids[i]!);
      expect(r.summary_version).toBe(SUMMARY_VERSION);
      expect(JSON.parse(String(r.summary))).toEqual(JSON.parse(JSON.stringify(summarize(message(i + 1)))));
      expect(r.subject).toBe(`message ${i + 1}`);
      expect(r.message_id).toBe(`m${i + 1}@remote.test`);
      expect(r.sent_at).toBe(summarize(message(i + 1)).sentAt);
      // The same as the append wrote in the first place, thread id included.
      expect(r).toEqual(before[i]!);
    }
    expect((await row(ids[1]!)).subject).toBe("kept as it is");
    expect(await row(ids[3]!)).toEqual(before[3]!);
    // A reindex is no change of the email: no change-log rows, nothing published.
    expect(await temp.count("changes")).toBe(changesBefore);
    expect(published).toEqual([]);
    // The typed read path sees the full summary.
    const [view] = await store.emails.get(jo, [ids[0]!]);
    expect(view!.summary.textParts).toEqual(["1"]);
    expect(view!.summary.envelope).toBeDefined();
  });

  test("thread ids are identities: a reindex never recomputes them", async () => {
    const [id] = await append(jo, 1);
    await makeStale([id!]);
    await temp.sql("UPDATE emails SET thread_id = 'Tlegacy' WHERE id = ?", [id!]);
    await store.summaries.reindex();
    expect((await row(id!)).thread_id).toBe("Tlegacy");
  });

  test("resumable: batches of a given size, a limited run leaves the rest for the next one", async () => {
    const ids = await append(jo, 7);
    await makeStale(ids);
    const progress: number[] = [];
    const first = await store.summaries.reindex({
      batchSize: 2,
      maxBatches: 2,
      onBatch: (p) => progress.push(p.updated),
    });
    expect(first).toEqual({ scanned: 4, updated: 4, complete: false });
    expect(progress).toEqual([2, 4]);
    // Ordered by id: the oldest four are done.
    expect((await Promise.all(ids.map(row))).map((r) => r.summary_version)).toEqual(
      [1, 1, 1, 1, 0, 0, 0].map((v) => v * SUMMARY_VERSION),
    );
    expect(await store.summaries.stale()).toBe(3);

    const second = await store.summaries.reindex({ batchSize: 2, maxBatches: 1 });
    expect(second).toEqual({ scanned: 2, updated: 2, complete: false });
    const third = await store.summaries.reindex({ batchSize: 2 });
    expect(third).toEqual({ scanned: 1, updated: 1, complete: true });
    expect(await store.summaries.reindex({ batchSize: 2 })).toEqual({ scanned: 0, updated: 0, complete: true });
    expect(await store.summaries.stale()).toBe(0);
  });

  test("an aborted signal stops between batches", async () => {
    const ids = await append(jo, 3);
    await makeStale(ids);
    const controller = new AbortController();
    const result = await store.summaries.reindex({
      batchSize: 1,
      signal: controller.signal,
      onBatch: () => controller.abort(),
    });
    expect(result).toEqual({ scanned: 1, updated: 1, complete: false });
    expect(await store.summaries.stale()).toBe(2);
  });

  test("--account: only that account's emails", async () => {
    const mine = await append(jo, 2);
    const theirs = await append(kim, 3, 10);
    await makeStale([...mine, ...theirs]);
    expect(await store.summaries.stale(kim)).toBe(3);
    expect(await store.summaries.reindex({ accountId: kim })).toEqual({ scanned: 3, updated: 3, complete: true });
    expect(await store.summaries.stale(kim)).toBe(0);
    expect(await store.summaries.stale(jo)).toBe(2);
    expect(await store.summaries.stale()).toBe(2);
  });

  test("an email whose blob cannot be read stays stale and does not stall the run", async () => {
    const ids = await append(jo, 3);
    await makeStale(ids);
    // Only possible behind the store's back (the foreign key forbids it); the test connection does not enforce it.
    const [email] = await temp.sql("SELECT blob_hash FROM emails WHERE id = ?", [ids[1]!]);
    await temp.sql("PRAGMA foreign_keys = OFF");
    await temp.sql("DELETE FROM blobs WHERE hash = ?", [String(email!.blob_hash)]);
    const result = await store.summaries.reindex({ batchSize: 1 });
    expect(result).toEqual({ scanned: 3, updated: 2, complete: true });
    expect(await store.summaries.stale()).toBe(1);
  });

  test("safe beside concurrent writes: appends during a run are neither lost nor reindexed twice", async () => {
    const ids = await append(jo, 20);
    await makeStale(ids);
    const [run, added] = await Promise.all([store.summaries.reindex({ batchSize: 3 }), append(jo, 5, 30)]);
    expect(run).toEqual({ scanned: 20, updated: 20, complete: true });
    expect(added.length).toBe(5);
    expect(await temp.count("emails")).toBe(25);
    expect(await store.summaries.stale()).toBe(0);
  });
});
