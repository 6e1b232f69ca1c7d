import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { ChangeRecorder } from "./change-log.ts";
import type { Db, Tx } from "./db.ts";
import { copyMembers, removeMembers } from "./membership.ts";
import { emails, mailboxes, messages } from "./schema.ts";
import type { Store } from "./store.ts";

export type Mailbox = typeof mailboxes.$inferSelect;

/** The mailboxes every account starts with, with their RFC 6154 special-use roles. */
export const DEFAULT_MAILBOXES: readonly { name: string; role: string }[] = [
  { name: "INBOX", role: "inbox" },
  { name: "Sent", role: "\\Sent" },
  { name: "Drafts", role: "\\Drafts" },
  { name: "Trash", role: "\\Trash" },
  { name: "Junk", role: "\\Junk" },
  { name: "Archive", role: "\\Archive" },
];

/**
 * Creates a mailbox inside a transaction. UIDVALIDITY is the creation time in seconds, raised
 * above every other mailbox of the account so that a mailbox deleted and created again under the
 * same name never reuses one (RFC 9051 §2.3.1.1).
 */
export async function createMailbox(
  tx: Tx,
  changes: ChangeRecorder,
  accountId: number,
  name: string,
  role: string | null,
): Promise<Mailbox> {
  // Above every UIDVALIDITY the account ever gave, deleted mailboxes included, so a name used
  // again never comes back with an old one (RFC 9051 §2.3.1.1); the current time when that is higher.
  const [taken] = await tx.all<{ uidValidity: number }>(sql`
    UPDATE accounts SET uid_validity_last = max(uid_validity_last + 1, ${Math.floor(Date.now() / 1000)},
      (SELECT coalesce(max(uid_validity), 0) + 1 FROM mailboxes WHERE account_id = ${accountId}))
    WHERE id = ${accountId} RETURNING uid_validity_last AS uidValidity`);
  if (!taken) throw new Error(`Account ${accountId} does not exist`);
  const uidValidity = Number(taken.uidValidity);
  const [row] = await tx.insert(mailboxes).values({ accountId, name, role, uidValidity }).returning();
  const modseq = await changes.add({
    accountId,
    mailboxId: row!.id,
    type: "mailbox",
    objectId: row!.id,
    op: "created",
  });
  await tx.update(mailboxes).set({ highestModseq: modseq }).where(eq(mailboxes.id, row!.id));
  return { ...row!, highestModseq: modseq };
}

function logMailboxChange(changes: ChangeRecorder, box: Mailbox, op: "updated" | "destroyed"): Promise<number> {
  return changes.add({ accountId: box.accountId, mailboxId: box.id, type: "mailbox", objectId: box.id, op });
}

/**
 * Renames a mailbox and its children ("A" → "B" also moves "A/x" to "B/x"). Renaming INBOX is
 * special (RFC 9051 §6.3.6): its messages move to a new mailbox of that name, INBOX stays, empty.
 */
export async function renameMailbox(
  tx: Tx,
  changes: ChangeRecorder,
  box: Mailbox,
  to: string,
  separator = "/",
): Promise<void> {
  if (box.role === "inbox") {
    const target = await createMailbox(tx, changes, box.accountId, to, null);
    const uids = (await tx.select({ uid: messages.uid }).from(messages).where(eq(messages.mailboxId, box.id))).map((
      r,
    ) => r.uid);
    await copyMembers(tx, changes, box.id, uids, target.id);
    await removeMembers(tx, changes, box.id, uids);
    return;
  }
  const all = await tx.select().from(mailboxes).where(eq(mailboxes.accountId, box.accountId));
  const children = all.filter((m) => m.name.startsWith(box.name + separator));
  for (const m of [box, ...children]) {
    await tx.update(mailboxes).set({ name: to + m.name.slice(box.name.length) }).where(eq(mailboxes.id, m.id));
    await logMailboxChange(changes, m, "updated");
  }
}

/**
 * Deletes a mailbox. Its memberships go first, each logged (an email that was only here is
 * destroyed; one that is also elsewhere lives on), in chunks, so a mailbox of any size can go.
 */
export async function deleteMailbox(tx: Tx, changes: ChangeRecorder, box: Mailbox): Promise<number> {
  const uids = (await tx.select({ uid: messages.uid }).from(messages).where(eq(messages.mailboxId, box.id))).map((r) =>
    r.uid
  );
  await removeMembers(tx, changes, box.id, uids);
  await tx.delete(mailboxes).where(eq(mailboxes.id, box.id));
  return logMailboxChange(changes, box, "destroyed");
}

export async function setSubscribed(tx: Tx, changes: ChangeRecorder, box: Mailbox, subscribed: boolean): Promise<void> {
  await tx.update(mailboxes).set({ subscribed }).where(eq(mailboxes.id, box.id));
  await logMailboxChange(changes, box, "updated");
}

/** Counts per mailbox, for IMAP STATUS, JMAP Mailbox/get and the REST list. */
export interface MailboxCounts {
  total: number;
  unread: number;
  deleted: number;
  size: number;
  threads: number;
  unreadThreads: number;
}

export class MailboxRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  list(accountId: number): Promise<Mailbox[]> {
    return this.db.select().from(mailboxes).where(eq(mailboxes.accountId, accountId)).orderBy(asc(mailboxes.id));
  }

  /** JMAP sortOrder (RFC 8621 §2), logged as an update of the mailbox. */
  setSortOrder(box: Mailbox, sortOrder: number): Promise<void> {
    return this.store.write(async (tx, changes) => {
      await tx.update(mailboxes).set({ sortOrder }).where(eq(mailboxes.id, box.id));
      await logMailboxChange(changes, box, "updated");
    });
  }

  async byId(id: number): Promise<Mailbox | undefined> {
    const [row] = await this.db.select().from(mailboxes).where(eq(mailboxes.id, id));
    return row;
  }

  async byRole(accountId: number, role: string): Promise<Mailbox | undefined> {
    const [row] = await this.db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.accountId, accountId), eq(mailboxes.role, role)));
    return row;
  }

  async byName(accountId: number, name: string): Promise<Mailbox | undefined> {
    const [row] = await this.db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.accountId, accountId), eq(mailboxes.name, name)));
    return row;
  }

  /** Counts of the account's mailboxes (or of the ones named), by mailbox id; empty mailboxes are absent. */
  async counts(accountId: number, only?: readonly number[]): Promise<Map<number, MailboxCounts>> {
    const unseen = sql`${messages.flags} not like '%"\\\\Seen"%'`;
    const deleted = sql`${messages.flags} like '%"\\\\Deleted"%'`;
    const rows = await this.db
      .select({
        mailboxId: messages.mailboxId,
        total: sql<number>`count(*)`,
        unread: sql<number>`coalesce(sum(${unseen}), 0)`,
        deleted: sql<number>`coalesce(sum(${deleted}), 0)`,
        size: sql<number>`coalesce(sum(${messages.size}), 0)`,
        threads: sql<number>`count(distinct ${emails.threadId})`,
        unreadThreads: sql<number>`count(distinct case when ${unseen} then ${emails.threadId} end)`,
      })
      .from(messages)
      .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId))
      .innerJoin(emails, eq(emails.id, messages.emailId))
      .where(and(eq(mailboxes.accountId, accountId), only ? inArray(messages.mailboxId, [...only]) : undefined))
      .groupBy(messages.mailboxId);
    return new Map(
      rows.map((r) => [
        r.mailboxId,
        {
          total: Number(r.total),
          unread: Number(r.unread),
          deleted: Number(r.deleted),
          size: Number(r.size),
          threads: Number(r.threads),
          unreadThreads: Number(r.unreadThreads),
        },
      ]),
    );
  }
}
