import { and, asc, eq, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { changes, mailboxes, messages } from "./schema.ts";
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
export async function createMailbox(tx: Tx, accountId: number, name: string, role: string | null): Promise<Mailbox> {
  const [{ top }] = (await tx
    .select({ top: sql<number>`coalesce(max(${mailboxes.uidValidity}), 0)` })
    .from(mailboxes)
    .where(eq(mailboxes.accountId, accountId))) as [{ top: number }];
  const uidValidity = Math.max(Math.floor(Date.now() / 1000), top + 1);
  const [row] = await tx.insert(mailboxes).values({ accountId, name, role, uidValidity }).returning();
  const [change] = await tx
    .insert(changes)
    .values({ accountId, mailboxId: row!.id, type: "mailbox", objectId: row!.id, op: "created" })
    .returning({ id: changes.id });
  await tx.update(mailboxes).set({ highestModseq: change!.id }).where(eq(mailboxes.id, row!.id));
  return { ...row!, highestModseq: change!.id };
}

/** Logs a mailbox change and returns its id (the new MODSEQ). */
async function logMailboxChange(tx: Tx, accountId: number, mailboxId: number, op: "updated" | "destroyed"): Promise<number> {
  const [change] = await tx
    .insert(changes)
    .values({ accountId, mailboxId, type: "mailbox", objectId: mailboxId, op })
    .returning({ id: changes.id });
  return change!.id;
}

/**
 * Renames a mailbox and its children ("A" → "B" also moves "A/x" to "B/x"). Renaming INBOX is
 * special (RFC 9051 §6.3.6): its messages move to a new mailbox of that name, INBOX stays, empty.
 */
export async function renameMailbox(tx: Tx, store: Store, box: Mailbox, to: string, separator = "/"): Promise<void> {
  if (box.role === "inbox") {
    const target = await createMailbox(tx, box.accountId, to, null);
    const uids = (await tx.select({ uid: messages.uid }).from(messages).where(eq(messages.mailboxId, box.id))).map((r) => r.uid);
    await store.messages.copy(tx, box.id, uids, target.id);
    await store.messages.expunge(tx, box.id, uids);
    return;
  }
  const all = await tx.select().from(mailboxes).where(eq(mailboxes.accountId, box.accountId));
  const children = all.filter((m) => m.name.startsWith(box.name + separator));
  for (const m of [box, ...children]) {
    await tx.update(mailboxes).set({ name: to + m.name.slice(box.name.length) }).where(eq(mailboxes.id, m.id));
    await logMailboxChange(tx, m.accountId, m.id, "updated");
  }
}

/** Deletes a mailbox, its messages going with it; each message is logged as destroyed. */
export async function deleteMailbox(tx: Tx, box: Mailbox): Promise<number> {
  const rows = await tx
    .select({ id: messages.id, uid: messages.uid, threadId: messages.threadId })
    .from(messages)
    .where(eq(messages.mailboxId, box.id));
  if (rows.length) {
    await tx.insert(changes).values(
      rows.map((r) => ({ accountId: box.accountId, mailboxId: box.id, type: "email" as const, objectId: r.id, uid: r.uid, threadId: r.threadId, op: "destroyed" as const })),
    );
  }
  await tx.delete(mailboxes).where(eq(mailboxes.id, box.id));
  return logMailboxChange(tx, box.accountId, box.id, "destroyed");
}

export async function setSubscribed(tx: Tx, box: Mailbox, subscribed: boolean): Promise<void> {
  await tx.update(mailboxes).set({ subscribed }).where(eq(mailboxes.id, box.id));
  await logMailboxChange(tx, box.accountId, box.id, "updated");
}

export class MailboxRepository {
  constructor(private readonly store: Store) {}

  list(accountId: number): Promise<Mailbox[]> {
    return this.store.db.select().from(mailboxes).where(eq(mailboxes.accountId, accountId)).orderBy(asc(mailboxes.id));
  }

  async byRole(accountId: number, role: string): Promise<Mailbox | undefined> {
    const [row] = await this.store.db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.accountId, accountId), eq(mailboxes.role, role)));
    return row;
  }

  async byName(accountId: number, name: string): Promise<Mailbox | undefined> {
    const [row] = await this.store.db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.accountId, accountId), eq(mailboxes.name, name)));
    return row;
  }
}
