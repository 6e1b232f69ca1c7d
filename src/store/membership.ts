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
import { jsonRows } from "./json-rows.ts";
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
 *
 * A few statements per chunk whatever its size: the rows' current flags, the change log's rows
 * and the memberships' UPDATE (`writeFlags`). A mailbox has few distinct flag sets, so the new
 * flags are worked out once per distinct set and the results share their arrays (callers must
 * not change them).
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
  // By the stored JSON text of a flag set: the set, and what the STORE makes of it (null: nothing).
  const outcomes = new Map<string, { current: string[]; next: { flags: string[]; json: string } | null }>();
  for (const part of chunks([...new Set(uids)].sort((a, b) => a - b), STORE_CHUNK)) {
    const rows = await flagRows(tx, mailboxId, part);
    const changed: Array<{ row: FlagRow; next: { flags: string[]; json: string } }> = [];
    for (const row of rows) {
      if (unchangedSince !== null && row.modseq > unchangedSince) {
        result.modified.push(row.uid);
        continue;
      }
      let outcome = outcomes.get(row.flags);
      if (!outcome) {
        const current = JSON.parse(row.flags) as string[];
        const next = applyFlags(current, mode, flags);
        const same = next.length === current.length && next.every((f) => current.includes(f));
        outcome = { current, next: same ? null : { flags: next, json: JSON.stringify(next) } };
        outcomes.set(row.flags, outcome);
      }
      if (outcome.next) changed.push({ row, next: outcome.next });
      else result.unchanged.push({ uid: row.uid, flags: outcome.current, modseq: row.modseq });
    }
    if (changed.length === 0) continue;
    // Rows going to the same flags are written together, and their change ids follow that order.
    const groups = new Map<string, FlagRow[]>();
    for (const { row, next } of changed) {
      const group = groups.get(next.json);
      if (group) group.push(row);
      else groups.set(next.json, [row]);
    }
    const ordered = [...groups.values()].flat();
    const first = await changes.membershipsUpdated(box.accountId, mailboxId, ordered.map((r) => r.id));
    const modseqs = new Map(ordered.map((r, i) => [r.id, first + i]));
    await writeFlags(tx, groups, first);
    for (const { row, next } of changed) {
      result.updated.push({ uid: row.uid, flags: next.flags, modseq: modseqs.get(row.id)! });
    }
    await tx.update(mailboxes).set({ highestModseq: first + changed.length - 1 }).where(eq(mailboxes.id, mailboxId));
  }
  return result;
}

/** Distinct new flag sets a STORE chunk may have and still write one statement per set. */
const GROUPED_WRITES = 4;

/**
 * The new flags of each group of rows, and their MODSEQs: `first`, then one more per row in the
 * groups' order. A few groups (the usual case: `+FLAGS (\Flagged)` on a mailbox of read and
 * unread messages is two) get a statement each, with the flags as one parameter and the ids as a
 * flat JSON list; more share one statement that takes each row's id and flags apart from JSON.
 */
async function writeFlags(tx: Tx, groups: Map<string, FlagRow[]>, first: number): Promise<void> {
  if (groups.size <= GROUPED_WRITES) {
    let next = first;
    for (const [json, rows] of groups) {
      await tx.run(sql`UPDATE messages SET flags = ${json}, modseq = ${next} + j.key
        FROM json_each(${JSON.stringify(rows.map((r) => r.id))}) AS j WHERE messages.id = j.value`);
      next += rows.length;
    }
    return;
  }
  const updates = [...groups].map(([json, rows]) => rows.map((r) => `[${r.id},${json}]`).join(",")).join(",");
  await tx.run(sql`UPDATE messages SET flags = j.value->>1, modseq = ${first} + j.key
    FROM json_each(${`[${updates}]`}) AS j WHERE messages.id = j.value->>0`);
}

/** UIDs per STORE chunk: they travel as one JSON parameter, so only memory bounds it. */
const STORE_CHUNK = 5000;

interface FlagRow {
  id: number;
  uid: number;
  /** As stored: a JSON array. */
  flags: string;
  modseq: number;
}

/**
 * What STORE needs of `uids` in a mailbox, in UID order: one statement with one parameter, so its
 * text is the same for any number of UIDs and its prepared statement is reused.
 */
async function flagRows(tx: Tx, mailboxId: number, uids: readonly number[]): Promise<FlagRow[]> {
  const rows = await jsonRows<[number, number, string, number]>(
    tx,
    sql`id, uid, flags, modseq`,
    sql`FROM messages WHERE mailbox_id = ${mailboxId} AND uid IN (SELECT value FROM json_each(${
      JSON.stringify(uids)
    }))`,
  );
  return rows.map(([id, uid, flags, modseq]) => ({ id, uid, flags, modseq })).sort((a, b) => a.uid - b.uid);
}

/** Every membership of an email: its mailboxes and UIDs, oldest first. */
export async function membershipsOf(
  tx: Tx,
  emailId: number,
): Promise<Array<{ mailboxId: number; uid: number; flags: string[]; size: number }>> {
  return tx.select({ mailboxId: messages.mailboxId, uid: messages.uid, flags: messages.flags, size: messages.size })
    .from(messages).where(eq(messages.emailId, emailId)).orderBy(asc(messages.id));
}
