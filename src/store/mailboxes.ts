import { and, asc, eq, sql } from "drizzle-orm";
import type { Tx } from "./db.ts";
import { changes, mailboxes } from "./schema.ts";
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
