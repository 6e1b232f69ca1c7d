/**
 * Per-account Sieve scripts (src/store/sieve-scripts.ts) and filing by Sieve inside the delivery transaction
 * (src/store/sieve-delivery.ts), issue 21.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { summarize } from "../../src/mime/summary.ts";
import { imapFlags, type SieveRecords } from "../../src/store/sieve-delivery.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;
let accountId: number;
let other: number;

beforeEach(async () => {
  ({ store, cleanup } = await openTempStore());
  await store.domains.add("example.test");
  accountId = (await store.accounts.add({ address: "u@example.test", password: "long enough password" })).id;
  other = (await store.accounts.add({ address: "v@example.test", password: "long enough password" })).id;
});
afterEach(() => cleanup());

describe("sieve scripts", () => {
  test("put, list, get, replace; one active script per account", async () => {
    await store.sieve.put(accountId, "a", "keep;\n");
    await store.sieve.put(accountId, "b", "discard;\n");
    await store.sieve.put(other, "a", "stop;\n");
    await store.sieve.activate(accountId, "a");
    await store.sieve.activate(accountId, "b");
    await store.sieve.put(accountId, "b", "keep; # new\n");
    expect((await store.sieve.list(accountId)).map((s) => [s.name, s.active, s.size])).toEqual([
      ["a", false, 6],
      ["b", true, 12],
    ]);
    expect(await store.sieve.active(accountId)).toEqual({ name: "b", content: "keep; # new\n" });
    expect(await store.sieve.active(other)).toBeNull();
    expect(await store.sieve.get(other, "a")).toBe("stop;\n");
    expect(await store.sieve.get(accountId, "missing")).toBeNull();
  });

  test("the active script cannot be deleted; deactivating frees it; unknown names and bad names are refused", async () => {
    await store.sieve.put(accountId, "a", "keep;\n");
    await store.sieve.activate(accountId, "a");
    await expect(store.sieve.delete(accountId, "a")).rejects.toMatchObject({ code: "in-use" });
    await store.sieve.activate(accountId, null);
    await store.sieve.delete(accountId, "a");
    expect(await store.sieve.list(accountId)).toEqual([]);
    await expect(store.sieve.activate(accountId, "nope")).rejects.toMatchObject({ code: "not-found" });
    await expect(store.sieve.delete(accountId, "nope")).rejects.toMatchObject({ code: "not-found" });
    expect(() => store.sieve.put(accountId, "a/b", "keep;")).toThrow("Invalid script name");
  });

  test("rename keeps the script active; the new name must be free and valid, the old one must exist", async () => {
    await store.sieve.put(accountId, "a", "keep;\n");
    await store.sieve.put(accountId, "b", "discard;\n");
    await store.sieve.activate(accountId, "a");
    await store.sieve.rename(accountId, "a", "c");
    expect(await store.sieve.active(accountId)).toEqual({ name: "c", content: "keep;\n" });
    await expect(store.sieve.rename(accountId, "c", "b")).rejects.toMatchObject({ code: "exists" });
    await expect(store.sieve.rename(accountId, "a", "d")).rejects.toMatchObject({ code: "not-found" });
    expect(() => store.sieve.rename(accountId, "c", "")).toThrow("Invalid script name");
    expect((await store.sieve.list(accountId)).map((s) => s.name)).toEqual(["b", "c"]);
  });

  test("scripts go with their account", async () => {
    await store.sieve.put(accountId, "a", "keep;\n");
    await store.accounts.remove("u@example.test");
    expect(await store.sieve.list(accountId)).toEqual([]);
  });
});

describe("what delivery records (recordSieve, in the delivery's transaction)", () => {
  const raw = new TextEncoder().encode("Subject: s\r\n\r\nbody\r\n");
  const deliver = async (records: SieveRecords) =>
    await store.mail.deliver({ raw, summary: await summarize(raw), local: [], queue: [], sieveRecords: records });

  test("vacation: one per account, handle and sender within the period; the period restarts with the next reply", async () => {
    const t0 = new Date(1_000_000);
    const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
    const sent = (account: number, handle: string, when: Date) =>
      store.sieve.vacationSentWithin(account, handle, "jane@remote.test", 3600, when);
    expect(await sent(accountId, "h", t0)).toBe(false);
    await deliver({ vacations: [{ accountId, handle: "h", sender: "Jane@Remote.test", sentAt: t0 }], duplicates: [] });
    expect(await sent(accountId, "h", at(3599))).toBe(true);
    expect(await sent(accountId, "other", at(10))).toBe(false);
    expect(await sent(other, "h", at(10))).toBe(false);
    expect(await sent(accountId, "h", at(3600))).toBe(false);
    await deliver({
      vacations: [{ accountId, handle: "h", sender: "jane@remote.test", sentAt: at(3600) }],
      duplicates: [],
    });
    expect(await sent(accountId, "h", at(7199))).toBe(true);
  });

  test("duplicates: per account and handle until they expire; expired ones are dropped", async () => {
    const now = Date.now();
    await deliver({
      vacations: [],
      duplicates: [
        { accountId, handle: "h", hash: "aa", expiresAt: new Date(now + 60_000) },
        { accountId, handle: "h", hash: "old", expiresAt: new Date(now - 1) },
      ],
    });
    expect(await store.sieve.duplicates(accountId)).toEqual(new Set(["h\u0000aa"]));
    expect(await store.sieve.duplicates(other)).toEqual(new Set());
    expect(await store.sieve.duplicates(accountId, new Date(now + 60_000))).toEqual(new Set());
  });

  test("nothing is recorded when the delivery fails", async () => {
    const failing = store.mail.deliver({
      raw,
      summary: await summarize(raw),
      local: [{ accountId: 999_999, junk: false }],
      queue: [],
      sieveRecords: { vacations: [{ accountId, handle: "h", sender: "a@b", sentAt: new Date() }], duplicates: [] },
    });
    await expect(failing).rejects.toThrow();
    expect(await store.sieve.vacationSentWithin(accountId, "h", "a@b", 3600)).toBe(false);
  });
});

describe("filing by Sieve at delivery", () => {
  const raw = new TextEncoder().encode("Subject: s\r\nMessage-ID: <s@x>\r\n\r\nbody\r\n");

  test("several mailboxes hold one email; :create makes parents; a missing mailbox falls back to INBOX", async () => {
    const result = await store.mail.deliver({
      raw,
      summary: summarize(raw),
      sieve: new Map([[accountId, {
        destinations: [
          { mailbox: "Lists/acme", flags: ["\\seen", "$Work", "\\Recent"], create: true },
          { mailbox: "Archive", flags: [], create: false },
          { mailbox: "Nowhere", flags: [], create: false },
          { mailbox: "inbox", flags: [], create: false },
        ],
      }], [other, { destinations: [] }]]),
      local: [{ accountId, junk: false }, { accountId: other, junk: false }],
      queue: [],
    });
    // Nowhere and "inbox" both mean INBOX: stored once there.
    expect(result.stored).toHaveLength(3);
    expect(new Set(result.stored.map((s) => s.emailId)).size).toBe(1);
    const names = new Map((await store.mailboxes.list(accountId)).map((m) => [m.id, m.name]));
    expect(result.stored.map((s) => names.get(s.mailboxId))).toEqual(["Lists/acme", "Archive", "INBOX"]);
    expect([...names.values()]).toContain("Lists");
    expect(await store.mailboxes.list(other)).not.toContainEqual(expect.objectContaining({ name: "Lists" }));
  });

  test("IMAP spelling of system flags; unknown backslash flags and bad keywords are dropped", () => {
    expect(imapFlags(["\\SEEN", "\\flagged", "\\Recent", "\\Bogus", "$Label1", "a(b", "\\seen"])).toEqual([
      "\\Seen",
      "\\Flagged",
      "$Label1",
    ]);
  });
});
