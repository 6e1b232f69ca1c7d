/**
 * IMAP subscriptions as names of their own (src/store/subscriptions.ts, migration 0011): kept when
 * the mailbox goes, possible before it exists, not added by CREATE, mirrored in the mailboxes'
 * flag JMAP reads and writes; and the \Recent claim only one session wins.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;
let accountId: number;

beforeEach(async () => {
  const temp = await openTempStore();
  ({ store, cleanup } = temp);
  await store.domains.add("example.test");
  accountId = (await store.accounts.add({ address: "u@example.test", password: "long enough password" })).id;
});
afterEach(() => cleanup());

const box = async (name: string) => (await store.mailboxes.byName(accountId, name))!;

describe("subscriptions", () => {
  test("a new account's mailboxes start subscribed; CREATE does not subscribe", async () => {
    expect(await store.imap.subscribed(accountId)).toEqual(["Archive", "Drafts", "INBOX", "Junk", "Sent", "Trash"]);
    await store.mail.createMailbox(accountId, "Projects", null);
    expect((await box("Projects")).subscribed).toBe(false);
    expect(await store.imap.subscribed(accountId)).not.toContain("Projects");
  });

  test("a name stays subscribed when its mailbox is deleted, and a mailbox created under it is subscribed", async () => {
    await store.mail.createMailbox(accountId, "Lists", null);
    await store.imap.setSubscription(accountId, "Lists", true);
    expect((await box("Lists")).subscribed).toBe(true);
    await store.mail.deleteMailbox(await box("Lists"));
    expect(await store.imap.subscribed(accountId)).toContain("Lists");
    await store.mail.createMailbox(accountId, "Lists", null);
    expect((await box("Lists")).subscribed).toBe(true);
  });

  test("a name may be subscribed before its mailbox exists; unsubscribing clears the mailbox's flag", async () => {
    await store.imap.setSubscription(accountId, "Later/Box", true);
    expect(await store.imap.subscribed(accountId)).toContain("Later/Box");
    await store.mail.createMailbox(accountId, "Later/Box", null);
    expect((await box("Later/Box")).subscribed).toBe(true);
    await store.imap.setSubscription(accountId, "Later/Box", false);
    expect((await box("Later/Box")).subscribed).toBe(false);
  });

  test("JMAP's isSubscribed writes the subscription; RENAME takes it along", async () => {
    await store.mail.createMailbox(accountId, "Old", null);
    await store.mail.setSubscribed(await box("Old"), true);
    expect(await store.imap.subscribed(accountId)).toContain("Old");
    await store.mail.renameMailbox(await box("Old"), "New");
    const names = await store.imap.subscribed(accountId);
    expect(names).toContain("New");
    expect(names).not.toContain("Old");
    expect((await box("New")).subscribed).toBe(true);
    await store.mail.setSubscribed(await box("New"), false);
    expect(await store.imap.subscribed(accountId)).not.toContain("New");
  });
});

describe("\\Recent", () => {
  test("the first claim gets the new UIDs, a second claim nothing, until more mail arrives", async () => {
    const inbox = await box("INBOX");
    const raw = new TextEncoder().encode("Subject: r\r\n\r\nx\r\n");
    await store.mail.append({ accountId, mailboxId: inbox.id, raw });
    await store.mail.append({ accountId, mailboxId: inbox.id, raw });
    expect(await store.imap.claimRecent(inbox.id)).toEqual({ after: 0, upTo: 2 });
    expect(await store.imap.claimRecent(inbox.id)).toEqual({ after: 0, upTo: 0 });
    await store.mail.append({ accountId, mailboxId: inbox.id, raw });
    expect(await store.imap.claimRecent(inbox.id)).toEqual({ after: 2, upTo: 3 });
  });
});

describe("MULTIAPPEND", () => {
  test("every message in one transaction, UIDs in order; over quota together, none is stored", async () => {
    const inbox = await box("INBOX");
    const item = (text: string) => ({ raw: new TextEncoder().encode(text), flags: [], receivedAt: new Date() });
    const appended = await store.imap.appendAll(accountId, inbox.id, [
      item("Subject: a\r\n\r\n1"),
      item("Subject: b\r\n\r\n2"),
    ]);
    if (appended === "overQuota") throw new Error("over quota");
    expect(appended.map((a) => a.uid)).toEqual([1, 2]);
    const small =
      (await store.accounts.add({ address: "q@example.test", password: "long enough password", quota: 100 })).id;
    const smallInbox = (await store.mailboxes.byName(small, "INBOX"))!;
    const big = "x".repeat(60);
    expect(await store.imap.appendAll(small, smallInbox.id, [item(big), item(big)])).toBe("overQuota");
    expect(await store.messages.list(smallInbox.id)).toHaveLength(0);
    await expect(store.imap.appendAll(small, inbox.id, [item("x")])).rejects.toThrow("No mailbox");
    expect(await store.messages.list(inbox.id)).toHaveLength(2);
  });
});
