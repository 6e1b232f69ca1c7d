/**
 * Upgrade from an early build: a database is made the way the builds of schema 0000–0007 made it
 * (their migrations only, rows inserted as their SQL inserted them, with the summary shapes they
 * stored), then opened by this build, migrated (0008 gives every old message an email identity)
 * and reindexed. Every message must then read byte for byte as stored, with a full summary, under
 * the same ids, uids and flags; over IMAP and JMAP too, with `serve` reindexing at start.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Client, createClient } from "@libsql/client";
import { ImapFlow } from "imapflow";
import { hashPassword } from "../../src/auth/password.ts";
import { summarize, SUMMARY_VERSION } from "../../src/mime/summary.ts";
import { migrate } from "../../src/store/migrate.ts";
import { MIGRATIONS } from "../../src/store/migrations.generated.ts";
import { Store } from "../../src/store/store.ts";
import { runPostern } from "../helpers/runtime.ts";
import { type ServerProcess, startServer } from "../helpers/server.ts";
import { tempDir } from "../helpers/tmp.ts";

/** The schema of the early builds: every migration up to 0007_delay_notice. */
const OLD_MIGRATIONS = MIGRATIONS.slice(0, MIGRATIONS.findIndex((m) => m.tag === "0007_delay_notice") + 1);

const encode = (text: string) => new TextEncoder().encode(text);

interface OldMessage {
  account: string;
  mailbox: string;
  uid: number;
  flags: string[];
  raw: Uint8Array;
  /** What the early build stored as the summary (each build's shape, or nothing useful at all). */
  summary: object;
  /** Derived columns as the early build filled them (or did not). */
  messageId: string | null;
  threadId: string | null;
  subject: string | null;
  /** messages.id: the JMAP and REST id the message had, and must keep. */
  id?: number;
}

const PLAIN = encode(
  "From: Alice Example <alice@remote.test>\r\nTo: jo@example.test\r\nSubject: Hello from the old days\r\n" +
    "Message-ID: <old-1@remote.test>\r\nDate: Tue, 3 Feb 2026 09:30:00 +0100\r\n\r\nThe first message, stored by an early build.\r\n",
);
const MULTIPART = encode(
  "From: =?utf-8?q?B=C3=A9a?= <bea@remote.test>\r\nTo: jo@example.test\r\nSubject: =?utf-8?q?Pi=C3=A8ce_jointe?=\r\n" +
    'Date: Wed, 4 Feb 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n' +
    "--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nVoil\u00e0 le fichier.\r\n" +
    '--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="x.bin"\r\n\r\n' +
    "AAECAw==\r\n--b1--\r\n",
);
const REPLY = encode(
  "From: Jo <jo@example.test>\r\nTo: Alice Example <alice@remote.test>\r\nSubject: Re: Hello from the old days\r\n" +
    "Message-ID: <old-2@example.test>\r\nIn-Reply-To: <old-1@remote.test>\r\nReferences: <old-1@remote.test>\r\n" +
    "Date: Tue, 3 Feb 2026 11:00:00 +0100\r\n\r\nAnd a reply, filed in Archive.\r\n",
);
const KIM = encode(
  "From: Zed <zed@remote.test>\r\nTo: kim@example.test\r\nSubject: For Kim\r\nMessage-ID: <kim-1@remote.test>\r\n\r\nHi Kim\r\n",
);

/** The summary shape of the builds before the IMAP work (commit 1b3681c): headers and a preview only. */
function headersOnlySummary(raw: Uint8Array, preview: string): object {
  const s = summarize(raw);
  return {
    size: s.size,
    messageId: s.messageId,
    inReplyTo: s.inReplyTo,
    references: s.references,
    subject: s.subject,
    sentAt: s.sentAt,
    from: s.from,
    sender: s.sender,
    replyTo: s.replyTo,
    to: s.to,
    cc: s.cc,
    bcc: s.bcc,
    preview,
  };
}

function oldMessages(): OldMessage[] {
  return [
    {
      account: "jo@example.test",
      mailbox: "INBOX",
      uid: 1,
      flags: ["\\Seen"],
      raw: PLAIN,
      summary: headersOnlySummary(PLAIN, "The first message"),
      messageId: "old-1@remote.test",
      threadId: "Told0000000000001",
      subject: "Hello from the old days",
    },
    // The very first builds stored no usable summary, no derived columns and no thread.
    {
      account: "jo@example.test",
      mailbox: "INBOX",
      uid: 2,
      flags: ["\\Flagged", "$Work"],
      raw: MULTIPART,
      summary: {},
      messageId: null,
      threadId: null,
      subject: null,
    },
    // UIDs with a gap (earlier messages expunged): they must stay as they are.
    {
      account: "jo@example.test",
      mailbox: "Archive",
      uid: 7,
      flags: ["\\Seen", "\\Answered"],
      raw: REPLY,
      summary: headersOnlySummary(REPLY, ""),
      messageId: "old-2@example.test",
      threadId: "Told0000000000001",
      subject: "Re: Hello from the old days",
    },
    {
      account: "kim@example.test",
      mailbox: "INBOX",
      uid: 1,
      flags: [],
      raw: KIM,
      summary: { size: KIM.byteLength, subject: "For Kim" },
      messageId: "kim-1@remote.test",
      threadId: null,
      subject: "For Kim",
    },
  ];
}

const MAILBOXES: ReadonlyArray<[string, string]> = [
  ["INBOX", "inbox"],
  ["Sent", "\\Sent"],
  ["Drafts", "\\Drafts"],
  ["Trash", "\\Trash"],
  ["Junk", "\\Junk"],
  ["Archive", "\\Archive"],
];
const PASSWORDS: Record<string, string> = {
  "jo@example.test": "jo-old-password",
  "kim@example.test": "kim-old-password",
};

/**
 * Writes a database in `dataDir` as an early build did: its migrations, then a domain, accounts with
 * their six mailboxes, blobs, message rows (modseq from the change log) and change rows, in raw SQL.
 * Returns the messages with their row ids.
 */
async function buildOldDatabase(dataDir: string): Promise<OldMessage[]> {
  const { mkdirSync } = await import("node:fs");
  mkdirSync(dataDir, { recursive: true });
  const client: Client = createClient({ url: `file:${join(dataDir, "postern.db")}` });
  try {
    const applied = await migrate(client, OLD_MIGRATIONS);
    expect(applied.applied.at(-1)).toBe("0007_delay_notice");
    const one = async (sql: string, args: Array<string | number | null | Uint8Array> = []) =>
      (await client.execute({ sql, args })).rows[0];
    const domainId = Number(
      (await one("INSERT INTO domains (name, kind) VALUES ('example.test', 'mailbox') RETURNING id"))!.id,
    );
    const boxes = new Map<string, number>();
    const accountIds = new Map<string, number>();
    let uidValidity = 1_700_000_000;
    for (const address of Object.keys(PASSWORDS)) {
      const accountId = Number(
        (await one(
          "INSERT INTO accounts (domain_id, address, password_hash, display_name) VALUES (?, ?, ?, NULL) RETURNING id",
          [domainId, address, await hashPassword(PASSWORDS[address]!)],
        ))!.id,
      );
      accountIds.set(address, accountId);
      for (const [name, role] of MAILBOXES) {
        const id = Number(
          (await one("INSERT INTO mailboxes (account_id, name, role, uid_validity) VALUES (?, ?, ?, ?) RETURNING id", [
            accountId,
            name,
            role,
            uidValidity++,
          ]))!.id,
        );
        boxes.set(`${address}/${name}`, id);
      }
    }
    const messages = oldMessages();
    let received = Date.parse("2026-02-05T08:00:00Z");
    for (const m of messages) {
      const mailboxId = boxes.get(`${m.account}/${m.mailbox}`)!;
      const accountId = accountIds.get(m.account)!;
      const hash = createHash("sha256").update(m.raw).digest("hex");
      await client.execute({
        sql: "INSERT OR IGNORE INTO blobs (hash, size, data) VALUES (?, ?, ?)",
        args: [hash, m.raw.byteLength, m.raw],
      });
      const sentAt = summarize(m.raw).sentAt;
      const id = Number(
        (await one(
          "INSERT INTO messages (mailbox_id, uid, modseq, blob_hash, size, flags, internal_date, summary, message_id, thread_id, subject, sent_at) VALUES (?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
          [
            mailboxId,
            m.uid,
            hash,
            m.raw.byteLength,
            JSON.stringify(m.flags),
            received,
            JSON.stringify(m.summary),
            m.messageId,
            m.threadId,
            m.subject,
            m.subject === null ? null : sentAt,
          ],
        ))!.id,
      );
      received += 60_000;
      const modseq = Number(
        (await one(
          "INSERT INTO changes (account_id, mailbox_id, type, object_id, uid, thread_id, op) VALUES (?, ?, 'email', ?, ?, ?, 'created') RETURNING id",
          [accountId, mailboxId, id, m.uid, m.threadId],
        ))!.id,
      );
      await client.execute({ sql: "UPDATE messages SET modseq = ? WHERE id = ?", args: [modseq, id] });
      await client.execute({
        sql: "UPDATE mailboxes SET uid_next = max(uid_next, ?), highest_modseq = ? WHERE id = ?",
        args: [m.uid + 1, modseq, mailboxId],
      });
      m.id = id;
    }
    return messages;
  } finally {
    client.close();
  }
}

describe("upgrade from an early schema", () => {
  let dir: ReturnType<typeof tempDir>;
  let old: OldMessage[];
  let store: Store;
  let inspect: Client;

  beforeAll(async () => {
    dir = tempDir("postern-upgrade-");
    old = await buildOldDatabase(join(dir.path, "data"));
    store = await Store.open({ url: `file:${join(dir.path, "data", "postern.db")}` });
    inspect = createClient({ url: `file:${join(dir.path, "data", "postern.db")}` });
  });
  afterAll(() => {
    inspect?.close();
    store?.close();
    dir?.cleanup();
  });

  const accountOf = async (address: string) => (await store.accounts.get(address))!;
  const mailboxOf = async (m: OldMessage) =>
    (await store.mailboxes.byName((await accountOf(m.account)).id, m.mailbox))!;

  test("migrate applies 0008: every old message becomes an email with its old id, at summary version 0", async () => {
    const result = await store.migrate();
    expect(result.applied).toEqual(MIGRATIONS.slice(OLD_MIGRATIONS.length).map((m) => m.tag));
    const rows = (await inspect.execute("SELECT id, summary_version, thread_id FROM emails ORDER BY id")).rows;
    expect(rows.map((r) => Number(r.id))).toEqual(old.map((m) => m.id!));
    expect(rows.every((r) => Number(r.summary_version) === 0)).toBe(true);
    // A message without a thread got one of its own; the others kept theirs.
    expect(rows.map((r) => String(r.thread_id))).toEqual(old.map((m) => m.threadId ?? `M${m.id}`));
    expect(await store.summaries.stale()).toBe(old.length);
  });

  test("before any reindex, raw bytes already read back unchanged", async () => {
    for (const m of old) {
      expect(await store.messages.raw((await mailboxOf(m)).id, m.uid)).toEqual(m.raw);
    }
  });

  test("reindex one account, then the rest", async () => {
    const kim = await accountOf("kim@example.test");
    expect(await store.summaries.reindex({ accountId: kim.id })).toEqual({ scanned: 1, updated: 1, complete: true });
    expect(await store.summaries.stale()).toBe(old.length - 1);
    expect(await store.summaries.reindex()).toEqual({
      scanned: old.length - 1,
      updated: old.length - 1,
      complete: true,
    });
    expect(await store.summaries.stale()).toBe(0);
  });

  test("every message reads byte-identically, with a full summary, under its old id, uid, flags and thread", async () => {
    for (const m of old) {
      const box = await mailboxOf(m);
      const account = await accountOf(m.account);
      expect(await store.messages.raw(box.id, m.uid)).toEqual(m.raw);

      const listed = (await store.messages.list(box.id)).find((x) => x.uid === m.uid)!;
      expect(listed).toBeDefined();
      expect(listed.emailId).toBe(m.id!);
      expect([...listed.flags].sort()).toEqual([...m.flags].sort());
      expect(listed.threadId).toBe(m.threadId ?? `M${m.id}`);

      const fresh = JSON.parse(JSON.stringify(summarize(m.raw)));
      const withSummary = (await store.messages.withSummaries(box.id, [m.uid])).get(m.uid)!;
      expect(withSummary.summary).toEqual(fresh);
      expect(withSummary.summary.envelope).toBeDefined();
      expect(withSummary.summary.body).toBeDefined();
      expect(withSummary.summary.textParts.length).toBeGreaterThan(0);

      const [email] = await store.emails.get(account.id, [m.id!]);
      expect(email!.id).toBe(m.id!);
      expect(email!.mailboxIds).toEqual([box.id]);
      expect([...email!.flags].sort()).toEqual([...m.flags].sort());
      expect(email!.subject).toBe(fresh.subject);
      expect(email!.messageId).toBe(fresh.messageId);
      expect(email!.summary.from).toEqual(fresh.from);

      const [row] =
        (await inspect.execute({ sql: "SELECT summary_version FROM emails WHERE id = ?", args: [m.id!] })).rows;
      expect(Number(row!.summary_version)).toBe(SUMMARY_VERSION);
    }
    // UIDs and UIDNEXT as the old build left them.
    const archive = await store.mailboxes.byName((await accountOf("jo@example.test")).id, "Archive");
    expect(archive!.uidNext).toBe(8);
    // The multipart message, stored with an empty summary, now has its parts and its decoded subject.
    const multipart = old[1]!;
    const [email] = await store.emails.get((await accountOf(multipart.account)).id, [multipart.id!]);
    expect(email!.subject).toBe("Pièce jointe");
    expect(email!.summary.hasAttachment).toBe(true);
    expect(email!.summary.attachments).toEqual(["2"]);
  });
});

describe("upgrade from an early schema, end to end", () => {
  let dir: ReturnType<typeof tempDir>;
  let old: OldMessage[];
  let server: ServerProcess | undefined;
  let dataDir: string;

  beforeAll(async () => {
    dir = tempDir("postern-upgrade-e2e-");
    dataDir = join(dir.path, "data");
    old = await buildOldDatabase(dataDir);
  });
  afterAll(async () => {
    await server?.stop();
    dir?.cleanup();
  });

  test(
    "`postern reindex --account` on the old database, before any serve, migrates and reindexes that account",
    async () => {
      const config = join(dir.path, "postern.json");
      writeFileSync(config, JSON.stringify({ dataDir }));
      const first = await runPostern(["reindex", "--account", "kim@example.test", "--config", config], {
        runtime: "bun",
      });
      expect(first.stderr).toBe("");
      expect(first.stdout.trim()).toBe(
        `reindexed 1 of 1 message of kim@example.test (summary version ${SUMMARY_VERSION})`,
      );
      expect(first.code).toBe(0);
      const unknown = await runPostern(["reindex", "--account", "nobody@example.test", "--config", config], {
        runtime: "bun",
      });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain("No such account: nobody@example.test");
    },
    30_000,
  );

  test(
    "serve reindexes the rest at start; IMAP FETCH BODY[] returns the stored bytes, JMAP Email/get the subject and from",
    async () => {
      server = await startServer({ config: { dataDir }, waitFor: ["imap", "http"] });
      // The background run logs its start and its end with the counts.
      for (let i = 0; i < 100 && !server.log().includes("reindexed message summaries"); i++) await Bun.sleep(50);
      expect(server.log()).toMatch(/msg="reindexing message summaries" stale=3 version=\d+/);
      expect(server.log()).toMatch(/msg="reindexed message summaries" scanned=3 updated=3/);

      const jo = old.filter((m) => m.account === "jo@example.test");
      const imap = new ImapFlow({
        host: "127.0.0.1",
        port: server.ports.imap!,
        secure: false,
        doSTARTTLS: true,
        logger: false,
        auth: { user: "jo@example.test", pass: PASSWORDS["jo@example.test"]! },
        tls: { rejectUnauthorized: false },
      });
      imap.on("error", () => {});
      await imap.connect();
      try {
        for (const m of jo) {
          const lock = await imap.getMailboxLock(m.mailbox);
          try {
            const msg = await imap.fetchOne(String(m.uid), {
              uid: true,
              source: true,
              flags: true,
              envelope: true,
              bodyStructure: true,
            }, { uid: true });
            expect(msg).toBeTruthy();
            if (!msg) continue;
            expect(new Uint8Array(msg.source!) as Uint8Array).toEqual(m.raw);
            expect([...(msg.flags ?? [])].sort()).toEqual([...m.flags].sort());
            expect(msg.envelope?.subject).toBe(summarize(m.raw).subject ?? undefined);
            expect(msg.bodyStructure).toBeTruthy();
          } finally {
            lock.release();
          }
        }
      } finally {
        await imap.logout();
      }

      const base = `http://127.0.0.1:${server.ports.http}`;
      const auth = { authorization: `Basic ${btoa(`jo@example.test:${PASSWORDS["jo@example.test"]}`)}` };
      const session = (await (await fetch(`${base}/jmap/session`, { headers: auth })).json()) as {
        primaryAccounts: Record<string, string>;
      };
      const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"]!;
      const response = await fetch(`${base}/jmap/api`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({
          using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
          methodCalls: [
            ["Email/get", {
              accountId,
              ids: jo.map((m) => `M${m.id}`),
              properties: ["id", "threadId", "subject", "from", "keywords", "preview", "hasAttachment"],
            }, "g"],
            ["Thread/get", { accountId, ids: ["Told0000000000001"] }, "t"],
          ],
        }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { methodResponses: Array<[string, Record<string, unknown>, string]> };
      const [[name, got], [threadName, threads]] = body.methodResponses as [
        [string, { list: Array<Record<string, unknown>>; notFound: string[] }, string],
        [string, { list: Array<{ id: string; emailIds: string[] }> }, string],
      ];
      expect(name).toBe("Email/get");
      expect(got.notFound).toEqual([]);
      const byId = new Map(got.list.map((e) => [e.id as string, e]));
      for (const m of jo) {
        const email = byId.get(`M${m.id}`)!;
        const fresh = summarize(m.raw);
        expect(email.subject).toBe(fresh.subject);
        expect(email.from).toEqual(fresh.from);
        expect(Object.keys(email.keywords as object).length).toBe(m.flags.length);
      }
      expect(byId.get(`M${old[1]!.id}`)!.hasAttachment).toBe(true);
      expect(byId.get(`M${old[0]!.id}`)!.preview).toContain("The first message");
      expect(threadName).toBe("Thread/get");
      expect(threads.list).toEqual([{ id: "Told0000000000001", emailIds: [`M${old[0]!.id}`, `M${old[2]!.id}`] }]);
    },
    60_000,
  );
});
