/**
 * Email/query with `collapseThreads` from the store's index (issue 22; src/store/thread-page.ts), through Hono's
 * `app.request()` over a real store: for a mailbox and for the whole account, newest or oldest first, at every
 * window, the indexed path answers exactly what the general path (every summary read, filtered, sorted and
 * collapsed in memory; forced here by wrapping the filter in an AND) answers — one email per thread, the first in
 * the sort order among those in scope, ties on the date by id — with the same total, and says
 * canCalculateChanges: false (RFC 8621 §4.4.3, RFC 8620 §5.6).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../src/api/app.ts";
import { summarize } from "../../src/mime/summary.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;
let app: ReturnType<typeof createApp>;
let token: string;
let accountId: string;
let inbox: string;
let archive: string;

beforeAll(async () => {
  ({ store, cleanup } = await openTempStore());
  app = createApp({
    version: "0.0.0",
    startedAt: Date.now(),
    metrics: () => [],
    store,
    adminToken: "admin-0123456789",
  });
  await store.domains.add("example.test");
  const account = await store.accounts.add({ address: "jo@example.test", password: "long enough password" });
  accountId = `A${account.id}`;
  token = (await store.tokens.create("jo@example.test", "test")).token;
  const inboxBox = (await store.mailboxes.byRole(account.id, "inbox"))!;
  const archiveBox = (await store.mailboxes.byName(account.id, "Archive"))!;
  inbox = `MB${inboxBox.id}`;
  archive = `MB${archiveBox.id}`;
  const start = Date.parse("2026-03-01T00:00:00Z");
  // 60 messages in threads of 1 to 5 (message i answers the first of its group); every seventh goes to Archive, so
  // threads span both mailboxes; every fifth shares its date with the one before (ties go by id).
  let root = 0;
  for (let i = 0; i < 60; i++) {
    if (i % 5 === 0 || i - root >= (root % 5) + 1) root = i;
    const raw = new TextEncoder().encode(
      `From: s${i}@remote.test\r\nTo: jo@example.test\r\nSubject: ${i === root ? "" : "Re: "}topic ${root}\r\n` +
        `Message-ID: <m${i}@remote.test>\r\n` + (i === root ? "" : `References: <m${root}@remote.test>\r\n`) +
        `\r\nmessage ${i}\r\n`,
    );
    await store.mail.append({
      accountId: account.id,
      mailboxId: i % 7 === 3 ? archiveBox.id : inboxBox.id,
      raw,
      summary: summarize(raw),
      receivedAt: new Date(start + (i % 5 === 1 ? i - 1 : i) * 60_000),
      checkQuota: false,
    });
  }
});
afterAll(() => cleanup());

async function query(args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await app.request("/jmap/api", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({
      using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
      methodCalls: [["Email/query", { accountId, calculateTotal: true, ...args }, "0"]],
    }),
  });
  const { methodResponses } = await res.json() as { methodResponses: Array<[string, Record<string, unknown>]> };
  expect(methodResponses[0]![0]).toBe("Email/query");
  return methodResponses[0]![1];
}

describe("Email/query collapseThreads from the index", () => {
  for (const scope of ["inbox", "archive", "account"] as const) {
    for (const isAscending of [false, true]) {
      test(`${scope}, ${isAscending ? "oldest" : "newest"} first: the same as the general path at every window`, async () => {
        const condition = scope === "account" ? null : { inMailbox: scope === "inbox" ? inbox : archive };
        const sort = [{ property: "receivedAt", isAscending }];
        // An AND of the one condition (or of none) matches the same emails but is not the list view.
        const general = await query({
          filter: { operator: "AND", conditions: condition ? [condition] : [] },
          sort,
          collapseThreads: true,
        });
        const all = general.ids as string[];
        expect(all.length).toBeGreaterThan(3);
        for (const [position, limit] of [[0, 50], [0, 5], [3, 4], [all.length - 2, 10], [all.length + 5, 5]] as const) {
          const fast = await query({ filter: condition, sort, collapseThreads: true, position, limit });
          expect(fast.ids).toEqual(all.slice(position, position + limit));
          expect(fast.total).toBe(all.length);
          expect(fast.canCalculateChanges).toBe(false);
        }
        // The store's window answers it by itself (no summary read in the JMAP layer).
        const page = await store.emails.page(Number(accountId.slice(1)), {
          mailboxId: condition ? Number(condition.inMailbox.slice(2)) : null,
          ascending: isAscending,
          position: 0,
          limit: 500,
          total: true,
          collapseThreads: true,
        });
        expect(page.ids.map((id) => `M${id}`)).toEqual(all);
        expect(page.total).toBe(all.length);
        // Collapsing keeps one per thread: fewer than the flat list (Archive's threads have one message there each).
        const flat = await query({ filter: condition, sort, limit: 500 });
        if (scope !== "archive") expect((flat.ids as string[]).length).toBeGreaterThan(all.length);
        expect(flat.canCalculateChanges).toBe(true);
      });
    }
  }
});
