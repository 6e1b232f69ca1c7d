/**
 * The mail store service (src/store/mail-store.ts): each operation's effect on rows, counters,
 * MODSEQ and the change log, the events it publishes after commit, and atomicity.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import type { ChangeEvent } from "../../src/store/change-feed.ts";
import type { CopyResult } from "../../src/store/membership.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;
let sql: Awaited<ReturnType<typeof openTempStore>>["sql"];
let count: (table: string) => Promise<number>;
let accountId: number;
let events: ChangeEvent[];

beforeEach(async () => {
  const temp = await openTempStore();
  ({ store, cleanup, sql, count } = temp);
  await store.domains.add("example.test");
  accountId = (await store.accounts.add({ address: "u@example.test", password: "long enough password" })).id;
  events = [];
  store.changes.subscribe(accountId, (e) => events.push(e));
});
afterEach(() => cleanup());

const box = async (name: string) => (await store.mailboxes.byName(accountId, name))!;
const encode = (text: string) => new TextEncoder().encode(text);

const copied = (result: CopyResult | "overQuota"): CopyResult => {
  if (result === "overQuota") throw new Error("over quota");
  return result;
};

async function deliver(mailbox: string, text: string, flags: string[] = []) {
  const appended = await store.mail.append({ accountId, mailboxId: (await box(mailbox)).id, raw: encode(text), flags });
  if (appended === "overQuota") throw new Error("over quota");
  return appended;
}

describe("append", () => {
  test("one email, one membership, one change; UIDNEXT and HIGHESTMODSEQ rise; published after commit", async () => {
    const a = await deliver("INBOX", "Message-ID: <a@x>\r\nSubject: first\r\n\r\nbody\r\n", ["\\Seen"]);
    const b = await deliver("INBOX", "Subject: second\r\n\r\nbody\r\n");
    expect([a.uid, b.uid]).toEqual([1, 2]);
    expect(b.modseq).toBeGreaterThan(a.modseq);
    const inbox = await box("INBOX");
    expect(inbox.uidNext).toBe(3);
    expect(inbox.highestModseq).toBe(b.modseq);
    const [email] = await store.emails.get(accountId, [a.emailId]);
    expect(email!.summary.subject).toBe("first");
    expect(email!.mailboxIds).toEqual([inbox.id]);
    expect(email!.flags).toEqual(["\\Seen"]);
    const log = await sql("SELECT op, mailbox_op, uid, object_id FROM changes WHERE type = 'email' ORDER BY id");
    expect(log).toEqual([
      { op: "created", mailbox_op: "created", uid: 1, object_id: a.emailId },
      { op: "created", mailbox_op: "created", uid: 2, object_id: b.emailId },
    ]);
    expect(events).toEqual([
      { accountId, mailboxIds: [inbox.id], modseq: a.modseq },
      { accountId, mailboxIds: [inbox.id], modseq: b.modseq },
    ]);
  });

  test("a reply joins the thread of the message it answers; the same blob is stored once", async () => {
    const first = await deliver("INBOX", "Message-ID: <root@x>\r\nSubject: hi\r\n\r\nhello\r\n");
    const reply = await deliver(
      "Sent",
      "Message-ID: <re@x>\r\nIn-Reply-To: <root@x>\r\nSubject: Re: hi\r\n\r\nhello back\r\n",
    );
    const other = await deliver("INBOX", "Message-ID: <other@x>\r\nSubject: other\r\n\r\nx\r\n");
    expect(reply.threadId).toBe(first.threadId);
    expect(other.threadId).not.toBe(first.threadId);
    await deliver("INBOX", "Message-ID: <other@x>\r\nSubject: other\r\n\r\nx\r\n");
    expect(await count("blobs")).toBe(3);
  });

  test("over quota: nothing is written", async () => {
    await store.accounts.remove("u@example.test");
    accountId =
      (await store.accounts.add({ address: "u@example.test", password: "long enough password", quota: 10 })).id;
    const result = await store.mail.append({
      accountId,
      mailboxId: (await box("INBOX")).id,
      raw: encode("Subject: too big for ten bytes\r\n\r\n"),
    });
    expect(result).toBe("overQuota");
    expect(await count("emails")).toBe(0);
    expect(await count("blobs")).toBe(0);
  });

  test("a copy counts again (RFC 9208 §5.1): COPY and an added mailbox that would not fit change nothing", async () => {
    await store.accounts.remove("u@example.test");
    accountId =
      (await store.accounts.add({ address: "u@example.test", password: "long enough password", quota: 100 })).id;
    const text = "Subject: thirty bytes or so\r\n\r\nbody\r\n";
    const a = await deliver("INBOX", text);
    await deliver("INBOX", text);
    const [inbox, archive] = [await box("INBOX"), await box("Archive")];
    expect(await store.mail.copy(inbox.id, [1, 2], archive.id)).toBe("overQuota");
    expect(await store.mail.updateEmail(accountId, a.emailId, { mailboxIds: [inbox.id, archive.id] })).toBe(
      "overQuota",
    );
    expect(await store.messages.list(archive.id)).toEqual([]);
    // 37 bytes each: 74 used, a third copy would make 111. A move adds nothing.
    expect(await store.mail.updateEmail(accountId, a.emailId, { mailboxIds: [archive.id] })).toBeNull();
    expect((await store.messages.list(archive.id)).map((m) => m.uid)).toEqual([1]);
  });

  test("a failure in the middle leaves nothing half-written and publishes nothing", async () => {
    const before = events.length;
    // The second local recipient has no such account: the whole delivery rolls back.
    await expect(
      store.mail.deliver({
        raw: encode("Subject: x\r\n\r\n"),
        summary: (await import("../../src/mime/summary.ts")).summarize(encode("Subject: x\r\n\r\n")),
        local: [{ accountId, junk: false }, { accountId: 9999, junk: false }],
        queue: [],
      }),
    ).rejects.toThrow();
    expect(await count("emails")).toBe(0);
    expect(await count("messages")).toBe(0);
    expect(await count("blobs")).toBe(0);
    expect(await count("changes WHERE type = 'email'")).toBe(0);
    expect(events.length).toBe(before);
  });
});

describe("copy, move, expunge", () => {
  test("copy: the same email joins the target with a new UID and its flags; JMAP sees one email in two mailboxes", async () => {
    const one = await deliver("INBOX", "one", ["\\Seen"]);
    await deliver("INBOX", "two");
    const inbox = await box("INBOX");
    const archive = await box("Archive");
    const result = copied(await store.mail.copy(inbox.id, [2, 1, 9], archive.id));
    expect(result.source).toEqual([1, 2]);
    expect(result.destination).toEqual([1, 2]);
    expect(result.uidValidity).toBe(archive.uidValidity);
    expect((await store.messages.list(archive.id)).map((m) => m.flags)).toEqual([["\\Seen"], []]);
    const [email] = await store.emails.get(accountId, [one.emailId]);
    expect(email!.mailboxIds).toEqual([inbox.id, archive.id]);
    expect(await count("emails")).toBe(2);
    expect(await count("blobs")).toBe(2);
  });

  test("move keeps the email id; the log says updated for JMAP, destroyed/created per mailbox for IMAP", async () => {
    const mail = await deliver("INBOX", "moving");
    const inbox = await box("INBOX");
    const archive = await box("Archive");
    const since = (await box("INBOX")).highestModseq;
    await store.mail.move(inbox.id, [mail.uid], archive.id);
    const [email] = await store.emails.get(accountId, [mail.emailId]);
    expect(email!.mailboxIds).toEqual([archive.id]);
    const log = await sql(
      "SELECT op, mailbox_op, mailbox_id FROM changes WHERE type = 'email' AND id > ? ORDER BY id",
      [since],
    );
    expect(log).toEqual([
      { op: "updated", mailbox_op: "created", mailbox_id: archive.id },
      { op: "updated", mailbox_op: "destroyed", mailbox_id: inbox.id },
    ]);
    expect((await store.messages.since(inbox.id, since)).vanished).toEqual([mail.uid]);
    expect(events.at(-1)!.mailboxIds.sort()).toEqual([inbox.id, archive.id].sort());
  });

  test("expunge: the last membership destroys the email and drops its blob; one of two only updates it", async () => {
    const keep = await deliver("INBOX", "keep");
    const drop = await deliver("INBOX", "drop");
    const inbox = await box("INBOX");
    await store.mail.copy(inbox.id, [keep.uid], (await box("Archive")).id);
    const removed = await store.mail.expunge(inbox.id, [keep.uid, drop.uid]);
    expect(removed).toEqual([keep.uid, drop.uid]);
    const log = await sql(
      "SELECT object_id, op, mailbox_op, uid FROM changes WHERE mailbox_op = 'destroyed' ORDER BY id",
    );
    expect(log).toEqual([
      { object_id: keep.emailId, op: "updated", mailbox_op: "destroyed", uid: keep.uid },
      { object_id: drop.emailId, op: "destroyed", mailbox_op: "destroyed", uid: drop.uid },
    ]);
    expect((await box("INBOX")).highestModseq).toBe(
      Math.max(...(await sql("SELECT id FROM changes")).map((r) => Number(r.id))),
    );
    expect(await count("emails")).toBe(1);
    expect(await count("blobs")).toBe(1);
  });

  test("storeFlags: set, add, remove; UNCHANGEDSINCE refuses newer messages; MODSEQ rises", async () => {
    await deliver("INBOX", "a");
    await deliver("INBOX", "b");
    const inbox = await box("INBOX");
    const before = (await store.messages.list(inbox.id)).map((m) => m.modseq);
    const added = await store.mail.storeFlags(inbox.id, [1, 2], "add", ["\\Flagged", "$Work"]);
    expect(added.updated.map((u) => u.flags)).toEqual([["\\Flagged", "$Work"], ["\\Flagged", "$Work"]]);
    expect(added.updated[0]!.modseq).toBeGreaterThan(Math.max(...before));
    const again = await store.mail.storeFlags(inbox.id, [1], "add", ["\\Flagged"]);
    expect(again.updated).toEqual([]);
    expect(again.unchanged.map((u) => u.uid)).toEqual([1]);
    const guarded = await store.mail.storeFlags(inbox.id, [1, 2], "remove", ["$Work"], added.updated[0]!.modseq);
    expect(guarded.updated.map((u) => u.uid)).toEqual([1]);
    expect(guarded.modified).toEqual([2]);
    const set = await store.mail.storeFlags(inbox.id, [2], "set", ["\\Seen"]);
    expect(set.updated[0]!.flags).toEqual(["\\Seen"]);
    expect((await box("INBOX")).highestModseq).toBe(set.updated[0]!.modseq);
    // Each flag change is logged for its email, with the email's thread (Thread/changes needs it).
    const logged = await sql(
      "SELECT c.id, c.uid, c.thread_id, e.thread_id AS email_thread FROM changes c JOIN emails e ON e.id = c.object_id WHERE c.id = ?",
      [set.updated[0]!.modseq],
    );
    expect(logged).toHaveLength(1);
    expect(logged[0]!.uid).toBe(2);
    expect(logged[0]!.thread_id).toBe(logged[0]!.email_thread);
    expect(String(logged[0]!.thread_id)).toMatch(/^T/);
  });

  test("storeFlags on a mix: changed, already so (any case), refused by UNCHANGEDSINCE; one change row each changed", async () => {
    await deliver("INBOX", "Subject: 1\r\n\r\n1");
    await deliver("INBOX", "Subject: 2\r\n\r\n2", ["\\Seen"]);
    await deliver("INBOX", "Subject: 3\r\n\r\n3", ["\\Flagged"]);
    await deliver("INBOX", "Subject: 4\r\n\r\n4", ["\\flagged", "$Work"]);
    const inbox = await box("INBOX");
    const since = inbox.highestModseq;
    const late = await deliver("INBOX", "Subject: 5\r\n\r\n5");
    const logBefore = await count("changes");
    events = [];
    const r = await store.mail.storeFlags(inbox.id, [5, 4, 3, 2, 1, 99], "add", ["\\Flagged"], since);
    expect(r.modified).toEqual([late.uid]);
    expect(r.unchanged).toEqual([
      { uid: 3, flags: ["\\Flagged"], modseq: expect.any(Number) },
      { uid: 4, flags: ["\\flagged", "$Work"], modseq: expect.any(Number) },
    ]);
    expect(r.updated.map((u) => [u.uid, u.flags])).toEqual([[1, ["\\Flagged"]], [2, ["\\Seen", "\\Flagged"]]]);
    const [m1, m2] = r.updated.map((u) => u.modseq) as [number, number];
    expect(m1).toBeGreaterThan(late.modseq);
    expect(m2).toBe(m1 + 1);
    // Stored as reported; the log has one "updated" row per changed membership, its id the MODSEQ.
    const rows = await store.messages.list(inbox.id);
    expect(rows.map((m) => [m.uid, m.flags, m.modseq])).toEqual([
      [1, ["\\Flagged"], m1],
      [2, ["\\Seen", "\\Flagged"], m2],
      [3, ["\\Flagged"], r.unchanged[0]!.modseq],
      [4, ["\\flagged", "$Work"], r.unchanged[1]!.modseq],
      [5, [], late.modseq],
    ]);
    expect(await count("changes")).toBe(logBefore + 2);
    const log = await sql(
      `SELECT c.id, c.account_id, c.mailbox_id, c.type, c.object_id, c.uid, c.op, c.mailbox_op,
        c.thread_id = e.thread_id AS same_thread, m.email_id
       FROM changes c JOIN messages m ON m.mailbox_id = c.mailbox_id AND m.uid = c.uid
       JOIN emails e ON e.id = m.email_id WHERE c.id > ? ORDER BY c.id`,
      [late.modseq],
    );
    expect(log.map((c) => ({ ...c, email_id: undefined }))).toEqual([1, 2].map((uid, i) => ({
      id: [m1, m2][i],
      account_id: accountId,
      mailbox_id: inbox.id,
      type: "email",
      object_id: rows[uid - 1]!.emailId,
      uid,
      op: "updated",
      mailbox_op: "updated",
      same_thread: 1,
      email_id: undefined,
    })));
    expect((await box("INBOX")).highestModseq).toBe(m2);
    expect(events).toEqual([{ accountId, mailboxIds: [inbox.id], modseq: m2 }]);
    // The next write's change follows on.
    const next = await store.mail.storeFlags(inbox.id, [5], "set", ["$Later"]);
    expect(next.updated[0]!.modseq).toBe(m2 + 1);
  });

  test("storeFlags to many distinct flag sets (one UPDATE for all) and to a few (one per set) store the same", async () => {
    const keywords = ["$a", "$b", "$c", "$d", "$e", "$f"];
    for (const k of [...keywords, ...keywords]) await deliver("INBOX", `Subject: ${k}\r\n\r\n${k}`, [k]);
    const inbox = await box("INBOX");
    const all = keywords.flatMap((_, i) => [i + 1, i + 7]);
    // Six new sets, more than are written one statement each.
    const many = await store.mail.storeFlags(inbox.id, all, "add", ["\\Seen"]);
    expect(many.updated.map((u) => u.uid)).toEqual([...all].sort((a, b) => a - b));
    // Then two: every message to the same set, but one that has it already.
    const few = await store.mail.storeFlags(inbox.id, all, "set", ["\\Seen", "$a"]);
    expect(few.unchanged.map((u) => u.uid)).toEqual([1, 7]);
    expect(few.updated).toHaveLength(10);
    for (const [result, flagsOf] of [[many, (k: string) => [k, "\\Seen"]], [few, () => ["\\Seen", "$a"]]] as const) {
      const stored = new Map((await store.messages.list(inbox.id)).map((m) => [m.uid, m]));
      const modseqs = result.updated.map((u) => u.modseq).sort((a, b) => a - b);
      expect(modseqs.every((m, i) => i === 0 || m === modseqs[i - 1]! + 1)).toBe(true);
      for (const u of result.updated) {
        expect(u.flags).toEqual(flagsOf(keywords[(u.uid - 1) % 6]!));
        if (result === few) expect(stored.get(u.uid)).toMatchObject({ flags: u.flags, modseq: u.modseq });
        const [logged] = await sql("SELECT uid, op FROM changes WHERE id = ?", [u.modseq]);
        expect(logged).toEqual({ uid: u.uid, op: "updated" });
      }
    }
    expect((await box("INBOX")).highestModseq).toBe(Math.max(...few.updated.map((u) => u.modseq)));
  });

  test("storeFlags removing a flag no message has changes nothing and logs nothing", async () => {
    await deliver("INBOX", "a", ["\\Seen"]);
    await deliver("INBOX", "b");
    const inbox = await box("INBOX");
    const logBefore = await count("changes");
    events = [];
    const r = await store.mail.storeFlags(inbox.id, [1, 2], "remove", ["\\Deleted", "$Nowhere"]);
    expect(r.updated).toEqual([]);
    expect(r.unchanged.map((u) => [u.uid, u.flags])).toEqual([[1, ["\\Seen"]], [2, []]]);
    expect(await count("changes")).toBe(logBefore);
    expect((await box("INBOX")).highestModseq).toBe(inbox.highestModseq);
    expect(events).toEqual([]);
  });

  test("updateEmail: keywords on every membership, a move by mailboxIds keeps the id; destroyEmail removes all", async () => {
    const mail = await deliver("INBOX", "x", ["\\Deleted"]);
    const inbox = await box("INBOX");
    const archive = await box("Archive");
    expect(
      await store.mail.updateEmail(accountId, mail.emailId, {
        keywords: [{ mode: "set", flags: ["$seen-like"] }],
        mailboxIds: [archive.id],
      }),
    ).toBeNull();
    const [email] = await store.emails.get(accountId, [mail.emailId]);
    expect(email!.mailboxIds).toEqual([archive.id]);
    expect(email!.flags.sort()).toEqual(["$seen-like", "\\Deleted"].sort());
    expect(await store.messages.list(inbox.id)).toEqual([]);
    expect(await store.mail.updateEmail(accountId + 1, mail.emailId, { mailboxIds: [inbox.id] })).toBe("notFound");
    expect(await store.mail.destroyEmail(accountId, mail.emailId)).toBe(true);
    expect(await count("emails")).toBe(0);
  });

  test("a JMAP upload keeps its blob until it expires", async () => {
    const mail = await deliver("INBOX", "to be expunged");
    const hash = await store.mail.upload(accountId, encode("uploaded, not imported yet"));
    await store.mail.expunge((await box("INBOX")).id, [mail.uid]);
    expect((await sql("SELECT hash FROM blobs")).map((b) => b.hash)).toEqual([hash]);
    expect(await store.emails.ownsBlob(accountId, hash)).toBe(true);
    await store.mail.upload(accountId, encode("another"), -1);
    await store.mail.upload(accountId, encode("a third"));
    expect((await sql("SELECT hash FROM blobs")).map((b) => b.hash)).toContain(hash);
  });
});

describe("mailbox operations", () => {
  test("a mailbox deleted and created again at once gets a new UIDVALIDITY (RFC 9051 §2.3.1.1)", async () => {
    const seen = new Set<number>();
    for (let i = 0; i < 3; i++) {
      const created = await store.mail.createMailbox(accountId, "Again", null);
      expect(seen.has(created.uidValidity)).toBe(false);
      seen.add(created.uidValidity);
      await store.mail.deleteMailbox(created, {});
    }
  });

  test("rename moves children along; renaming INBOX moves its messages to a new mailbox, keeping email ids", async () => {
    for (const name of ["Lists", "Lists/rust", "Lists/ts"]) await store.mail.createMailbox(accountId, name, null);
    await store.mail.renameMailbox(await box("Lists"), "Groups");
    const names = (await store.mailboxes.list(accountId)).map((m) => m.name);
    expect(names).toContain("Groups/rust");
    expect(names).not.toContain("Lists/ts");

    const old = await deliver("INBOX", "old mail");
    await store.mail.renameMailbox(await box("INBOX"), "Old INBOX");
    expect(await store.messages.list((await box("INBOX")).id)).toHaveLength(0);
    const moved = await store.messages.list((await box("Old INBOX")).id);
    expect(moved.map((m) => m.emailId)).toEqual([old.emailId]);
  });

  test("delete removes the mailbox; an email also elsewhere survives; onlyIfEmpty refuses a full one", async () => {
    const spam = await deliver("Junk", "spam");
    const both = await deliver("Junk", "kept elsewhere");
    const junk = await box("Junk");
    await store.mail.copy(junk.id, [both.uid], (await box("Archive")).id);
    await store.mail.setSubscribed(junk, false);
    expect((await box("Junk")).subscribed).toBe(false);
    await expect(store.mail.deleteMailbox(junk, { onlyIfEmpty: true })).rejects.toThrow("holds mail");
    await store.mail.deleteMailbox(junk);
    expect(await store.mailboxes.byName(accountId, "Junk")).toBeUndefined();
    expect(await store.emails.get(accountId, [spam.emailId])).toEqual([]);
    expect((await store.emails.get(accountId, [both.emailId]))[0]!.mailboxIds).toEqual([(await box("Archive")).id]);
  });

  test("50,000 messages: copy, flag, expunge and delete of the whole mailbox all work", async () => {
    const inbox = await box("INBOX");
    const raw = encode("Subject: bulk\r\n\r\nsame body\r\n");
    const summary = (await import("../../src/mime/summary.ts")).summarize(raw);
    const N = 50_000;
    for (let i = 0; i < N; i += 1000) {
      await Promise.all(
        Array.from(
          { length: 1000 },
          () => store.mail.append({ accountId, mailboxId: inbox.id, raw, summary, checkQuota: false }),
        ),
      );
    }
    expect((await store.mailboxes.counts(accountId)).get(inbox.id)!.total).toBe(N);
    const all = Array.from({ length: N }, (_, i) => i + 1);
    const flagged = await store.mail.storeFlags(inbox.id, all, "add", ["\\Seen"]);
    expect(flagged.updated).toHaveLength(N);
    // Two chunks, one MODSEQ each message, in UID order, each the id of its change row.
    expect(
      flagged.updated.every((u, i) => u.uid === i + 1 && (i === 0 || u.modseq === flagged.updated[i - 1]!.modseq + 1)),
    )
      .toBe(true);
    const [logged] = await sql("SELECT count(*) AS n, min(id) AS lo, max(id) AS hi FROM changes WHERE op = 'updated'");
    expect(logged).toEqual({ n: N, lo: flagged.updated[0]!.modseq, hi: flagged.updated.at(-1)!.modseq });
    const archive = await box("Archive");
    const copy = copied(await store.mail.copy(inbox.id, all.slice(0, 20_000), archive.id));
    expect(copy.destination).toHaveLength(20_000);
    expect(await store.mail.expunge(archive.id, copy.destination)).toHaveLength(20_000);
    await store.mail.deleteMailbox(inbox);
    expect(await count("messages")).toBe(0);
    expect(await count("emails")).toBe(0);
    expect(await count("blobs")).toBe(0);
  }, 300_000);
});
