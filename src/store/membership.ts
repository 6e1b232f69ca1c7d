/**
 * Writes to mailbox memberships, inside the caller's transaction: copy (the same email joins
 * another mailbox), removal (IMAP EXPUNGE, POP3 DELE, a move's second half; the email itself goes
 * with its last membership) and flags (IMAP STORE with CONDSTORE's UNCHANGEDSINCE). Each works on
 * any number of rows, in chunks that stay below SQLite's bound-parameter limit.
 */
import { and, asc, count, eq, inArray, sql } from "drizzle-orm";
import { addMembership, collectBlobs, type Membership } from "./append.ts";
import type { ChangeEntry, ChangeRecorder } from "./change-log.ts";
import type { Tx } from "./db.ts";
import { emails, mailboxes, messages } from "./schema.ts";

/** Ids per `IN (…)` list. */
const CHUNK = 500;

export function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export interface MemberRow {
  id: number;
  uid: number;
  emailId: number;
  flags: string[];
  modseq: number;
  internalDate: Date;
  size: number;
  accountId: number;
  threadId: string;
  blobHash: string;
}

/** The memberships of `uids` in a mailbox, in UID order. */
export async function memberRows(tx: Tx, mailboxId: number, uids: readonly number[]): Promise<MemberRow[]> {
  const out: MemberRow[] = [];
  for (const part of chunks([...new Set(uids)])) {
    out.push(
      ...(await tx
        .select({
          id: messages.id,
          uid: messages.uid,
          emailId: messages.emailId,
          flags: messages.flags,
          modseq: messages.modseq,
          internalDate: messages.internalDate,
          size: messages.size,
          accountId: emails.accountId,
          threadId: emails.threadId,
          blobHash: emails.blobHash,
        })
        .from(messages)
        .innerJoin(emails, eq(emails.id, messages.emailId))
        .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, part)))),
    );
  }
  return out.sort((a, b) => a.uid - b.uid);
}

export interface CopyResult {
  uidValidity: number;
  /** Source and destination UIDs, pairwise in source order (COPYUID, RFC 4315 §3). */
  source: number[];
  destination: number[];
  memberships: Membership[];
}

/**
 * Copies memberships to another mailbox of the same account: the same email, a new UID, flags and
 * internal date kept. An email that is in the target already is stored again as a new email (a
 * mailbox holds an email once; IMAP still asks for a second copy).
 */
export async function copyMembers(
  tx: Tx,
  changes: ChangeRecorder,
  from: number,
  uids: readonly number[],
  to: number,
): Promise<CopyResult> {
  const rows = await memberRows(tx, from, uids);
  const [target] = await tx.select({ uidValidity: mailboxes.uidValidity }).from(mailboxes).where(eq(mailboxes.id, to));
  if (!target) throw new Error(`Mailbox ${to} does not exist`);
  const already = new Set<number>();
  for (const part of chunks(rows.map((r) => r.emailId))) {
    const present = await tx.select({ emailId: messages.emailId }).from(messages).where(
      and(eq(messages.mailboxId, to), inArray(messages.emailId, part)),
    );
    present.forEach((p) => already.add(p.emailId));
  }
  const result: CopyResult = { uidValidity: target.uidValidity, source: [], destination: [], memberships: [] };
  for (const row of rows) {
    const email = already.has(row.emailId)
      ? await duplicateEmail(tx, row.emailId)
      : { id: row.emailId, accountId: row.accountId, size: row.size, threadId: row.threadId };
    const added = await addMembership(tx, changes, email, {
      mailboxId: to,
      flags: row.flags,
      internalDate: row.internalDate,
    });
    result.source.push(row.uid);
    result.destination.push(added.uid);
    result.memberships.push(added);
  }
  return result;
}

/** A second email with the same content, thread and summary (for a copy into a mailbox that holds the first). */
async function duplicateEmail(tx: Tx, emailId: number) {
  const [original] = await tx.select().from(emails).where(eq(emails.id, emailId));
  const { id: _, ...rest } = original!;
  const [row] = await tx.insert(emails).values(rest).returning({ id: emails.id });
  return { id: row!.id, accountId: rest.accountId, size: rest.size, threadId: rest.threadId };
}

/**
 * Removes memberships from a mailbox. Each is logged with its UID (for VANISHED); an email whose
 * last membership this was is destroyed, otherwise it is updated (it left one mailbox). Blobs
 * nothing refers to any more are deleted. Returns the UIDs removed.
 */
export async function removeMembers(
  tx: Tx,
  changes: ChangeRecorder,
  mailboxId: number,
  uids: readonly number[],
): Promise<number[]> {
  const removed: number[] = [];
  let modseq = 0;
  for (const part of chunks([...new Set(uids)])) {
    const rows = await memberRows(tx, mailboxId, part);
    if (rows.length === 0) continue;
    const ids = rows.map((r) => r.emailId);
    const counts = await tx
      .select({ emailId: messages.emailId, n: count() })
      .from(messages)
      .where(inArray(messages.emailId, ids))
      .groupBy(messages.emailId);
    const memberships = new Map(counts.map((c) => [c.emailId, c.n]));
    const entries: ChangeEntry[] = rows.map((r) => ({
      accountId: r.accountId,
      mailboxId,
      type: "email",
      objectId: r.emailId,
      uid: r.uid,
      threadId: r.threadId,
      op: (memberships.get(r.emailId) ?? 1) > 1 ? "updated" : "destroyed",
      mailboxOp: "destroyed",
    }));
    const logged = await changes.addMany(entries);
    modseq = Math.max(modseq, ...logged);
    await tx.delete(messages).where(inArray(messages.id, rows.map((r) => r.id)));
    const gone = rows.filter((r) => (memberships.get(r.emailId) ?? 1) <= 1);
    if (gone.length) {
      await tx.delete(emails).where(inArray(emails.id, gone.map((r) => r.emailId)));
      await collectBlobs(tx, gone.map((r) => r.blobHash));
    }
    removed.push(...rows.map((r) => r.uid));
  }
  if (modseq) await tx.update(mailboxes).set({ highestModseq: modseq }).where(eq(mailboxes.id, mailboxId));
  return removed;
}

export interface FlagState {
  uid: number;
  flags: string[];
  modseq: number;
}

export interface StoreFlagsResult {
  /** Memberships whose flags changed, with their new MODSEQ. */
  updated: FlagState[];
  /** Memberships the STORE asked for whose flags were already so. */
  unchanged: FlagState[];
  /** UIDs refused by UNCHANGEDSINCE (reported as MODIFIED). */
  modified: number[];
}

export type FlagMode = "set" | "add" | "remove";

/** Flags compared as IMAP compares them: case-insensitively (RFC 9051 §2.3.2). */
function uniqueFlags(flags: readonly string[]): string[] {
  const seen = new Set<string>();
  return flags.filter((f) => !seen.has(f.toLowerCase()) && seen.add(f.toLowerCase()));
}

/** The flags after a STORE; a flag already there keeps the spelling it has. */
function applyFlags(current: readonly string[], mode: FlagMode, flags: readonly string[]): string[] {
  if (mode === "set") return uniqueFlags(flags);
  if (mode === "add") return uniqueFlags([...current, ...flags]);
  const gone = new Set(flags.map((f) => f.toLowerCase()));
  return current.filter((f) => !gone.has(f.toLowerCase()));
}

/**
 * IMAP STORE (RFC 9051 §6.4.6) with UNCHANGEDSINCE (RFC 7162 §3.1.3): a membership whose MODSEQ
 * is above `unchangedSince` is left alone and reported in `modified`; each one that changes gets
 * an "updated" change and a new MODSEQ.
 */
export async function storeMemberFlags(
  tx: Tx,
  changes: ChangeRecorder,
  mailboxId: number,
  uids: readonly number[],
  mode: FlagMode,
  flags: readonly string[],
  unchangedSince: number | null,
): Promise<StoreFlagsResult> {
  const result: StoreFlagsResult = { updated: [], unchanged: [], modified: [] };
  const [box] = await tx.select({ accountId: mailboxes.accountId }).from(mailboxes).where(eq(mailboxes.id, mailboxId));
  if (!box) return result;
  for (const part of chunks([...new Set(uids)].sort((a, b) => a - b), STORE_CHUNK)) {
    const rows = await flagRows(tx, mailboxId, part);
    const changed: Array<{ row: FlagRow; next: string[] }> = [];
    for (const row of rows) {
      if (unchangedSince !== null && row.modseq > unchangedSince) {
        result.modified.push(row.uid);
        continue;
      }
      const next = applyFlags(row.flags, mode, flags);
      if (next.length === row.flags.length && next.every((f) => row.flags.includes(f))) {
        result.unchanged.push({ uid: row.uid, flags: row.flags, modseq: row.modseq });
      } else changed.push({ row, next });
    }
    if (changed.length === 0) continue;
    // The thread of each change row is looked up by the INSERT itself (threadId left out).
    const modseqs = await changes.addMany(
      changed.map(({ row }) => ({
        accountId: box.accountId,
        mailboxId,
        type: "email",
        objectId: row.emailId,
        uid: row.uid,
        op: "updated",
        mailboxOp: "updated",
      })),
    );
    // One statement for the whole chunk: the new flags and MODSEQ of each row travel as JSON.
    const updates = changed.map(({ row, next }, i) => [row.id, JSON.stringify(next), modseqs[i]!]);
    await tx.run(sql`UPDATE messages SET flags = j.value->>1, modseq = j.value->>2
      FROM json_each(${JSON.stringify(updates)}) AS j WHERE messages.id = j.value->>0`);
    changed.forEach(({ row, next }, i) => result.updated.push({ uid: row.uid, flags: next, modseq: modseqs[i]! }));
    await tx.update(mailboxes).set({ highestModseq: Math.max(...modseqs) }).where(eq(mailboxes.id, mailboxId));
  }
  return result;
}

/** UIDs per STORE chunk: they travel as one JSON parameter, so only memory bounds it. */
const STORE_CHUNK = 5000;

interface FlagRow {
  id: number;
  uid: number;
  emailId: number;
  flags: string[];
  modseq: number;
}

/**
 * What STORE needs of `uids` in a mailbox, in UID order: one statement with one parameter, so its
 * text is the same for any number of UIDs and its prepared statement is reused.
 */
async function flagRows(tx: Tx, mailboxId: number, uids: readonly number[]): Promise<FlagRow[]> {
  const rows = await tx.all<{ id: number; uid: number; emailId: number; flags: string; modseq: number }>(sql`
    SELECT id, uid, email_id AS emailId, flags, modseq FROM messages
    WHERE mailbox_id = ${mailboxId} AND uid IN (SELECT value FROM json_each(${JSON.stringify(uids)}))
    ORDER BY uid`);
  return rows.map((r) => ({ ...r, flags: JSON.parse(r.flags) as string[] }));
}

/** Every membership of an email: its mailboxes and UIDs, oldest first. */
export async function membershipsOf(
  tx: Tx,
  emailId: number,
): Promise<Array<{ mailboxId: number; uid: number; flags: string[] }>> {
  return tx.select({ mailboxId: messages.mailboxId, uid: messages.uid, flags: messages.flags }).from(messages).where(
    eq(messages.emailId, emailId),
  ).orderBy(asc(messages.id));
}
