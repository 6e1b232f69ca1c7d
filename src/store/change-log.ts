/**
 * The change log, written by the store alone. Every write transaction gets a `ChangeRecorder`:
 * each change it logs takes the next id of the `changes` table (the RFC 7162 MODSEQ and the JMAP
 * state), and the recorder remembers which accounts and mailboxes the transaction touched. The
 * store publishes that after COMMIT (store.ts), so no caller can forget to, or publish a change
 * that was rolled back.
 */
import { and, asc, desc, eq, gt, lte, sql } from "drizzle-orm";
import type { ChangeEvent } from "./change-feed.ts";
import type { Db, Tx } from "./db.ts";
import { changes } from "./schema.ts";

export type ChangeOp = "created" | "updated" | "destroyed";
/** The JMAP types the log follows ("submission" is EmailSubmission, "vacation" VacationResponse, "sieve" SieveScript). */
export type ChangeType = "email" | "mailbox" | "identity" | "submission" | "vacation" | "sieve";

export interface ChangeEntry {
  accountId: number;
  mailboxId: number | null;
  type: ChangeType;
  /** The email or mailbox id (or identity, submission). */
  objectId: number;
  /** What happened to the object as JMAP sees it. */
  op: ChangeOp;
  /** For an email: its uid in `mailboxId` and what happened to that membership (IMAP's view). */
  uid?: number | null;
  mailboxOp?: ChangeOp | null;
  /** For an email: its thread; left out, the INSERT looks it up (null: none). */
  threadId?: string | null;
}

/** SQL for the id the next change gets (the AUTOINCREMENT sequence, or the largest id before any). */
export const NEXT_CHANGE_ID_SQL = "(max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0), " +
  "coalesce((SELECT max(id) FROM changes), 0)) + 1)";
export const NEXT_CHANGE_ID = sql.raw(NEXT_CHANGE_ID_SQL);

/**
 * Change ids for one write transaction. The transaction holds SQLite's write lock from BEGIN
 * IMMEDIATE to COMMIT, so no other connection can log a change meanwhile: the next ids follow
 * the table's AUTOINCREMENT sequence, read once per transaction and then counted here. A write
 * that rolls back leaves a gap, which MODSEQ allows (RFC 7162 §3.1.1 asks only that it grow).
 */
export class ChangeIds {
  readonly #tx: Tx;
  #last: number | null = null;

  constructor(tx: Tx) {
    this.#tx = tx;
  }

  /** The next `n` ids, in order. */
  async take(n: number): Promise<number[]> {
    const first = await this.reserve(n);
    return Array.from({ length: n }, (_, i) => first + i);
  }

  /** Reserves the next `n` ids and returns the first; the others follow it one by one. */
  async reserve(n: number): Promise<number> {
    if (this.#last === null) {
      const [row] = await this.#tx.all<{ next: number }>(sql`SELECT ${NEXT_CHANGE_ID} AS next`);
      this.#last = Number(row!.next) - 1;
    }
    const first = this.#last + 1;
    this.#last += n;
    return first;
  }

  /** A change was logged with `id`, which a statement computed from NEXT_CHANGE_ID itself. */
  used(id: number): void {
    if (this.#last !== null) this.#last = Math.max(this.#last, id);
  }
}

export class ChangeRecorder {
  readonly #tx: Tx;
  readonly #ids: ChangeIds;
  readonly #touched = new Map<number, { mailboxIds: Set<number>; modseq: number }>();

  constructor(tx: Tx, ids: ChangeIds = new ChangeIds(tx)) {
    this.#tx = tx;
    this.#ids = ids;
  }

  /** Logs one change and returns its id, the new MODSEQ. */
  async add(entry: ChangeEntry): Promise<number> {
    return (await this.addMany([entry]))[0]!;
  }

  /**
   * A change a statement logged by itself (a membership's INSERT, through its trigger), with an id
   * it took from NEXT_CHANGE_ID: counted here so the next ids follow it and the commit publishes it.
   */
  logged(accountId: number, mailboxId: number, id: number): void {
    this.#ids.used(id);
    this.#touch(accountId, mailboxId, id);
  }

  /**
   * Logs changes in order and returns their ids in the same order, in one statement whatever
   * their number (the rows travel as one JSON parameter).
   */
  async addMany(entries: readonly ChangeEntry[]): Promise<number[]> {
    if (entries.length === 0) return [];
    const ids = await this.#ids.take(entries.length);
    const rows = entries.map((e, i) => [
      ids[i],
      e.accountId,
      e.mailboxId,
      e.type,
      e.objectId,
      e.uid ?? null,
      // An email's thread left out is looked up by the INSERT (0 says so: JSON has no undefined).
      e.threadId === undefined ? (e.type === "email" ? 0 : null) : e.threadId,
      e.op,
      e.mailboxOp ?? null,
    ]);
    await this.#tx.run(
      sql`INSERT INTO changes (id, account_id, mailbox_id, type, object_id, uid, thread_id, op, mailbox_op)
      SELECT value->>0, value->>1, value->>2, value->>3, value->>4, value->>5,
        CASE WHEN json_type(value, '$[6]') = 'integer'
          THEN (SELECT thread_id FROM emails WHERE id = value->>4) ELSE value->>6 END,
        value->>7, value->>8
      FROM json_each(${JSON.stringify(rows)})`,
    );
    entries.forEach((e, i) => this.#touch(e.accountId, e.mailboxId, ids[i]!));
    return ids;
  }

  /**
   * Logs that the memberships `messageIds` of one mailbox changed (their flags: IMAP STORE, JMAP
   * keywords), an "updated" change each, in that order, in one statement whatever their number:
   * the ids travel as one flat JSON array and each row's email, uid and thread are read from the
   * membership itself. Returns the first change id; the others follow it one by one.
   */
  async membershipsUpdated(accountId: number, mailboxId: number, messageIds: readonly number[]): Promise<number> {
    const first = await this.#ids.reserve(messageIds.length);
    if (messageIds.length === 0) return first;
    // CROSS JOIN keeps the JSON list outermost: one primary-key lookup per id, in list order.
    await this.#tx.run(
      sql`INSERT INTO changes (id, account_id, mailbox_id, type, object_id, uid, thread_id, op, mailbox_op)
      SELECT ${first} + j.key, ${accountId}, ${mailboxId}, 'email', m.email_id, m.uid, e.thread_id, 'updated', 'updated'
      FROM json_each(${JSON.stringify(messageIds)}) AS j
        CROSS JOIN messages AS m ON m.id = j.value
        CROSS JOIN emails AS e ON e.id = m.email_id`,
    );
    this.#touch(accountId, mailboxId, first + messageIds.length - 1);
    return first;
  }

  #touch(accountId: number, mailboxId: number | null, modseq: number): void {
    let seen = this.#touched.get(accountId);
    if (!seen) this.#touched.set(accountId, seen = { mailboxIds: new Set(), modseq: 0 });
    if (mailboxId !== null) seen.mailboxIds.add(mailboxId);
    seen.modseq = Math.max(seen.modseq, modseq);
  }

  /** One event per account touched, for the change feed. */
  events(): ChangeEvent[] {
    return [...this.#touched].map(([accountId, t]) => ({ accountId, mailboxIds: [...t.mailboxIds], modseq: t.modseq }));
  }
}

export interface LogEntry {
  id: number;
  objectId: number;
  mailboxId: number | null;
  uid: number | null;
  threadId: string | null;
  op: ChangeOp;
  mailboxOp: ChangeOp | null;
}

const logColumns = {
  id: changes.id,
  objectId: changes.objectId,
  mailboxId: changes.mailboxId,
  uid: changes.uid,
  threadId: changes.threadId,
  op: changes.op,
  mailboxOp: changes.mailboxOp,
};

/** Reads of the change log (JMAP /changes, IMAP QRESYNC and IDLE). */
export class ChangeLogReader {
  constructor(private readonly db: Db) {}

  /** The account's newest change id: the JMAP state string of every type. */
  async state(accountId: number): Promise<number> {
    const [row] = await this.db.select({ id: changes.id }).from(changes).where(eq(changes.accountId, accountId))
      .orderBy(desc(changes.id)).limit(1);
    return row?.id ?? 0;
  }

  /** The account's log of one type after `since`, up to and including `upTo`, oldest first. */
  since(accountId: number, type: ChangeType, since: number, upTo: number): Promise<LogEntry[]> {
    return this.db
      .select(logColumns)
      .from(changes)
      .where(
        and(eq(changes.accountId, accountId), eq(changes.type, type), gt(changes.id, since), lte(changes.id, upTo)),
      )
      .orderBy(asc(changes.id));
  }

  /** One mailbox's email log after `since` (IMAP CONDSTORE/QRESYNC). */
  mailboxSince(mailboxId: number, since: number): Promise<LogEntry[]> {
    return this.db
      .select(logColumns)
      .from(changes)
      .where(and(eq(changes.mailboxId, mailboxId), eq(changes.type, "email"), gt(changes.id, since)))
      .orderBy(asc(changes.id));
  }
}
