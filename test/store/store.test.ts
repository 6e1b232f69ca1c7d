import { createClient } from "@libsql/client";
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { MIGRATIONS } from "../../src/store/migrations.generated.ts";
import { renderMigrations } from "../../scripts/embed-migrations.ts";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { StoreError } from "../../src/store/errors.ts";
import { DEFAULT_MAILBOXES } from "../../src/store/mailboxes.ts";
import { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";
import { tempDir } from "../helpers/tmp.ts";

let store: Store;
let cleanup: () => void;
let storePath: string;
let sql: Awaited<ReturnType<typeof openTempStore>>["sql"];
let count: (table: string) => Promise<number>;

beforeEach(async () => {
  const temp = await openTempStore();
  ({ sql, count } = temp);
  store = temp.store;
  storePath = temp.path;

  cleanup = temp.cleanup;
});
afterEach(() => cleanup());

async function rejection(p: Promise<unknown>): Promise<StoreError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof StoreError) return e;
    throw e;
  }
  throw new Error("expected a StoreError");
}

const encode = (s: string) => new TextEncoder().encode(s);

describe("migrations", () => {
  test("apply to an empty database, then re-apply as a no-op", async () => {
    const fresh = tempDir();
    const s = await Store.open({ url: `file:${fresh.path}/a.db` });
    try {
      const first = await s.migrate();
      expect(first.applied).toEqual(MIGRATIONS.map((m) => m.tag));
      const second = await s.migrate();
      expect(second.applied).toEqual([]);
      expect(second.skipped).toEqual(MIGRATIONS.map((m) => m.tag));
      const tables = (await createClient({ url: `file:${fresh.path}/a.db` }).execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'",
      )).rows.map((r) => r.name);
      for (
        const t of [
          "domains",
          "accounts",
          "aliases",
          "alias_targets",
          "mailboxes",
          "messages",
          "blobs",
          "changes",
          "queue",
          "queue_recipients",
        ]
      ) {
        expect(tables).toContain(t);
      }
    } finally {
      s.close();
      fresh.cleanup();
    }
  });

  test("the embedded migrations match migrations/", () => {
    expect(readFileSync(join(import.meta.dirname, "../../src/store/migrations.generated.ts"), "utf8")).toBe(
      renderMigrations(),
    );
  });

  test("WAL; every pooled connection enforces foreign keys, commits with synchronous=NORMAL and has no sleeping busy handler", async () => {
    expect(await store.pragma("journal_mode")).toBe("wal");
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    // A write transaction holds one connection; the reads below open another.
    const writing = store.write(() => held);
    await Bun.sleep(10);
    expect(await store.pragma("foreign_keys")).toBe(1);
    expect(await store.pragma("synchronous")).toBe(1);
    expect(await store.pragma("busy_timeout")).toBe(0);
    release();
    await writing;
  });

  test("a write that finds another process writing waits without blocking the event loop, then commits", async () => {
    const other = await Store.open({ url: `file:${storePath}/postern.db` });
    try {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      const holding = other.write(() => held);
      await Bun.sleep(20);
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10);
      const started = Date.now();
      const waiting = store.domains.add("busy.test");
      setTimeout(release, 300);
      await holding;
      await waiting;
      clearInterval(ticker);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      // The timers kept running while the write waited for the lock.
      expect(ticks).toBeGreaterThan(10);
      expect(await other.domains.get("busy.test")).toBeDefined();
    } finally {
      other.close();
    }
  });
});

describe("domains and accounts", () => {
  test("a fresh account has its six mailboxes with special-use roles", async () => {
    await store.domains.add("example.com");
    const account = await store.accounts.add({ address: "alice@example.com", password: "secret" });
    const boxes = await store.mailboxes.list(account.id);
    expect(boxes.map((b) => [b.name, b.role])).toEqual(DEFAULT_MAILBOXES.map((m) => [m.name, m.role]));
    expect(new Set(boxes.map((b) => b.uidValidity)).size).toBe(6);
    for (const b of boxes) expect(b.uidNext).toBe(1);
  });

  test("addresses and domains are normalised", async () => {
    await store.domains.add("Example.COM.");
    expect((await store.domains.list()).map((d) => d.name)).toEqual(["example.com"]);
    await store.accounts.add({ address: "Alice@EXAMPLE.com", password: "pw" });
    expect((await store.accounts.get("alice@example.com"))?.address).toBe("alice@example.com");
  });

  test("duplicates, unknown domains and forward domains are clear errors", async () => {
    await store.domains.add("example.com");
    expect((await rejection(store.domains.add("EXAMPLE.com"))).code).toBe("exists");
    await store.accounts.add({ address: "a@example.com", password: "pw" });
    expect((await rejection(store.accounts.add({ address: "a@example.com", password: "x" }))).code).toBe("exists");
    expect((await rejection(store.accounts.add({ address: "a@nowhere.test", password: "x" }))).code).toBe("not-found");
    await store.domains.add("fwd.example", "forward");
    expect((await rejection(store.accounts.add({ address: "a@fwd.example", password: "x" }))).code).toBe("invalid");
    expect((await rejection(store.domains.add("not a domain"))).code).toBe("invalid");
  });

  test("passwords are hashed, verified, changed; failures do not say why", async () => {
    await store.domains.add("example.com");
    await store.accounts.add({ address: "a@example.com", password: "first" });
    const row = (await sql("SELECT password_hash FROM accounts"))[0]!;
    expect(String(row.password_hash)).toStartWith("$scrypt$");
    expect(String(row[0])).not.toContain("first");
    expect((await store.accounts.verify("A@example.com", "first"))?.address).toBe("a@example.com");
    expect(await store.accounts.verify("a@example.com", "wrong")).toBeNull();
    expect(await store.accounts.verify("nobody@example.com", "first")).toBeNull();
    await store.accounts.setPassword("a@example.com", "second");
    expect(await store.accounts.verify("a@example.com", "first")).toBeNull();
    expect(await store.accounts.verify("a@example.com", "second")).not.toBeNull();
  });

  test("a domain with accounts cannot be removed", async () => {
    await store.domains.add("example.com");
    await store.accounts.add({ address: "a@example.com", password: "pw" });
    expect((await rejection(store.domains.remove("example.com"))).code).toBe("in-use");
    await store.accounts.remove("a@example.com");
    await store.domains.remove("example.com");
    expect(await store.domains.list()).toEqual([]);
  });
});

describe("blobs and messages", () => {
  test("a blob stored twice is kept once", async () => {
    await store.domains.add("example.com");
    const account = await store.accounts.add({ address: "a@example.com", password: "pw" });
    const inbox = (await store.mailboxes.byRole(account.id, "inbox"))!;
    const bytes = encode("Subject: once\r\n\r\nbody\r\n");
    const [a, b] = (await Promise.all(
      [1, 2].map(() => store.mail.append({ accountId: account.id, mailboxId: inbox.id, raw: bytes })),
    )) as [Awaited<ReturnType<typeof store.mail.append>>, Awaited<ReturnType<typeof store.mail.append>>];
    if (a === "overQuota" || b === "overQuota") throw new Error("quota");
    expect(a.blobHash).toBe(b.blobHash);
    expect(a.blobHash).toMatch(/^[0-9a-f]{64}$/);
    expect(await count("blobs")).toBe(1);
    expect(await store.emails.readBlob(a.blobHash)).toEqual(bytes);
  });

  test("appending takes ascending UIDs and MODSEQs from the change log", async () => {
    await store.domains.add("example.com");
    const account = await store.accounts.add({ address: "a@example.com", password: "pw" });
    const inbox = (await store.mailboxes.byRole(account.id, "inbox"))!;
    const bytes = encode("Subject: x\r\n\r\nx\r\n");
    const a = await store.mail.append({ accountId: account.id, mailboxId: inbox.id, raw: bytes });
    const b = await store.mail.append({ accountId: account.id, mailboxId: inbox.id, raw: bytes, flags: ["\\Seen"] });
    if (a === "overQuota" || b === "overQuota") throw new Error("quota");
    expect([a.uid, b.uid]).toEqual([1, 2]);
    expect(b.modseq).toBeGreaterThan(a.modseq);
    const box = (await store.mailboxes.byRole(account.id, "inbox"))!;
    expect(box.uidNext).toBe(3);
    expect(box.highestModseq).toBe(b.modseq);
    expect((await store.messages.list(inbox.id)).map((m) => m.flags)).toEqual([[], ["\\Seen"]]);
    expect(await count("blobs")).toBe(1);
  });

  test("a failed append leaves nothing behind", async () => {
    await store.domains.add("example.com");
    const account = await store.accounts.add({ address: "a@example.com", password: "pw" });
    await expect(store.mail.append({ accountId: account.id, mailboxId: 9999, raw: encode("Subject: lost\r\n\r\n") }))
      .rejects.toThrow();
    expect(await count("blobs")).toBe(0);
  });

  test("removing an account drops its orphaned blobs", async () => {
    await store.domains.add("example.com");
    const account = await store.accounts.add({ address: "a@example.com", password: "pw" });
    const inbox = (await store.mailboxes.byRole(account.id, "inbox"))!;
    await store.mail.append({ accountId: account.id, mailboxId: inbox.id, raw: encode("Subject: gone\r\n\r\n") });
    await store.accounts.remove("a@example.com");
    expect(await count("blobs")).toBe(0);
    expect(await count("messages")).toBe(0);
  });
});

describe("aliases", () => {
  test("exact, catch-all and webhook targets; adding merges, removing targets", async () => {
    await store.domains.add("example.com");
    await store.aliases.add("Sales@example.com", ["bob@example.net"]);
    await store.aliases.add("sales@example.com", ["carol@example.net", "https://hooks.example.net/in"]);
    await store.aliases.add("@example.com", ["bob@example.net"]);
    expect(await store.aliases.list()).toEqual([
      { address: "@example.com", targets: ["bob@example.net"] },
      {
        address: "sales@example.com",
        targets: ["bob@example.net", "carol@example.net", "https://hooks.example.net/in"],
      },
    ]);
    await store.aliases.remove("sales@example.com", ["bob@example.net"]);
    expect((await store.aliases.get("sales@example.com"))?.targets).toEqual([
      "carol@example.net",
      "https://hooks.example.net/in",
    ]);
    expect((await store.aliases.get("@example.com"))?.targets).toEqual(["bob@example.net"]);
    await store.aliases.remove("sales@example.com");
    expect(await store.aliases.get("sales@example.com")).toBeUndefined();
  });

  test("bad aliases and targets are refused", async () => {
    await store.domains.add("example.com");
    expect((await rejection(store.aliases.add("x@nowhere.test", ["a@b.example"]))).code).toBe("not-found");
    expect((await rejection(store.aliases.add("x@example.com", ["http://insecure.example/hook"]))).code).toBe(
      "invalid",
    );
    expect((await rejection(store.aliases.add("x@example.com", []))).code).toBe("invalid");
  });
});
