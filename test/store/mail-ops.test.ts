import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { eq } from "drizzle-orm";
import { createMailbox, deleteMailbox, renameMailbox, setSubscribed } from "../../src/store/mailboxes.ts";
import { blobs, changes } from "../../src/store/schema.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;
let accountId: number;

beforeEach(async () => {
  const temp = await openTempStore();
  store = temp.store;
  cleanup = temp.cleanup;
  await store.domains.add("example.test");
  accountId = (await store.accounts.add({ address: "u@example.test", password: "long enough password" })).id;
});
afterEach(() => cleanup());

const box = async (name: string) => (await store.mailboxes.byName(accountId, name))!;

async function deliver(mailbox: string, text: string, flags: string[] = []): Promise<number> {
  const id = (await box(mailbox)).id;
  const raw = new TextEncoder().encode(text);
  return store.write(async (tx) => {
    const hash = await store.messages.putBlob(tx, raw);
    return (await store.messages.append(tx, hash, raw.length, { mailboxId: id, summary: {}, flags })).uid;
  });
}

describe("message operations", () => {
  test("copy gives new UIDs in the target, shares the blob and keeps flags", async () => {
    await deliver("INBOX", "one", ["\\Seen"]);
    await deliver("INBOX", "two");
    const inbox = await box("INBOX");
    const archive = await box("Archive");
    const result = await store.write((tx) => store.messages.copy(tx, inbox.id, [2, 1, 9], archive.id));
    expect(result.source).toEqual([1, 2]);
    expect(result.destination).toEqual([1, 2]);
    expect(result.uidValidity).toBe(archive.uidValidity);
    const copied = await store.messages.listMailbox(archive.id);
    expect(copied.map((m) => m.flags)).toEqual([["\\Seen"], []]);
    expect((await store.db.select().from(blobs)).length).toBe(2);
  });

  test("storeFlags: set, add, remove; UNCHANGEDSINCE refuses newer messages; MODSEQ rises", async () => {
    await deliver("INBOX", "a");
    await deliver("INBOX", "b");
    const inbox = await box("INBOX");
    const before = (await store.messages.listMailbox(inbox.id)).map((m) => m.modseq);
    const added = await store.write((tx) => store.messages.storeFlags(tx, inbox.id, [1, 2], "add", ["\\Flagged", "$Work"], null));
    expect(added.updated.map((u) => u.flags)).toEqual([["\\Flagged", "$Work"], ["\\Flagged", "$Work"]]);
    expect(added.updated[0]!.modseq).toBeGreaterThan(Math.max(...before));
    const again = await store.write((tx) => store.messages.storeFlags(tx, inbox.id, [1], "add", ["\\Flagged"], null));
    expect(again.updated).toEqual([]);
    expect(again.unchanged.map((u) => u.uid)).toEqual([1]);
    const guarded = await store.write((tx) => store.messages.storeFlags(tx, inbox.id, [1, 2], "remove", ["$Work"], added.updated[0]!.modseq));
    expect(guarded.updated.map((u) => u.uid)).toEqual([1]);
    expect(guarded.modified).toEqual([2]);
    const set = await store.write((tx) => store.messages.storeFlags(tx, inbox.id, [2], "set", ["\\Seen"], null));
    expect(set.updated[0]!.flags).toEqual(["\\Seen"]);
    expect((await box("INBOX")).highestModseq).toBe(set.updated[0]!.modseq);
  });

  test("expunge logs each message as destroyed with its uid and drops blobs no one uses", async () => {
    await deliver("INBOX", "keep");
    await deliver("INBOX", "drop");
    const inbox = await box("INBOX");
    const result = await store.write((tx) => store.messages.expunge(tx, inbox.id, [2]));
    expect(result!.modseq).toBe((await box("INBOX")).highestModseq);
    const destroyed = await store.db.select().from(changes).where(eq(changes.op, "destroyed"));
    expect(destroyed.map((c) => c.uid)).toEqual([2]);
    expect((await store.db.select().from(blobs)).length).toBe(1);
  });

  test("a JMAP upload keeps its blob through garbage collection until it expires", async () => {
    await deliver("INBOX", "to be expunged");
    const inbox = await box("INBOX");
    const upload = new TextEncoder().encode("uploaded, not imported yet");
    const hash = await store.write(async (tx) => {
      const h = await store.messages.putBlob(tx, upload);
      await store.messages.holdUpload(tx, h, accountId);
      return h;
    });
    await store.write((tx) => store.messages.expunge(tx, inbox.id, [1]));
    expect((await store.db.select().from(blobs)).map((b) => b.hash)).toEqual([hash]);
    await store.write((tx) => store.messages.holdUpload(tx, hash, accountId, -1));
    await store.write((tx) => store.messages.collectGarbage(tx));
    expect(await store.db.select().from(blobs)).toEqual([]);
  });
});

describe("mailbox operations", () => {
  test("rename moves children along; renaming INBOX moves its messages to a new mailbox", async () => {
    for (const name of ["Lists", "Lists/rust", "Lists/ts"]) await store.write((tx) => createMailbox(tx, accountId, name, null));
    const lists = await box("Lists");
    await store.write((tx) => renameMailbox(tx, store, lists, "Groups"));
    const names = (await store.mailboxes.list(accountId)).map((m) => m.name);
    expect(names).toContain("Groups/rust");
    expect(names).not.toContain("Lists/ts");

    await deliver("INBOX", "old mail");
    const inbox = await box("INBOX");
    await store.write((tx) => renameMailbox(tx, store, inbox, "Old INBOX"));
    expect(await store.messages.listMailbox((await box("INBOX")).id)).toHaveLength(0);
    expect(await store.messages.listMailbox((await box("Old INBOX")).id)).toHaveLength(1);
  });

  test("delete removes the mailbox with its messages; subscribe flags are kept", async () => {
    await deliver("Junk", "spam");
    const junk = await box("Junk");
    await store.write((tx) => setSubscribed(tx, junk, false));
    expect((await box("Junk")).subscribed).toBe(false);
    await store.write((tx) => deleteMailbox(tx, junk));
    expect(await store.mailboxes.byName(accountId, "Junk")).toBeUndefined();
  });
});
