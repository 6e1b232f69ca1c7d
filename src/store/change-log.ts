/**
 * The change log, written by the store alone. Every write transaction gets a `ChangeRecorder`:
 * each change it logs takes the next id of the `changes` table (the RFC 7162 MODSEQ and the JMAP
 * state), and the recorder remembers which accounts and mailboxes the transaction touched. The
 * store publishes that after COMMIT (store.ts), so no caller can forget to, or publish a change
 * that was rolled back.
 */
import { and, asc, desc, eq, gt, lte } from "drizzle-orm";
import type { ChangeEvent } from "./change-feed.ts";
import type { Db, Tx } from "./db.ts";
import { changes } from "./schema.ts";

export type ChangeOp = "created" | "updated" | "destroyed";

export interface ChangeEntry {
  accountId: number;
  mailboxId: number | null;
  type: "email" | "mailbox";
  /** The email or mailbox id. */
  objectId: number;
  /** What happened to the object as JMAP sees it. */
  op: ChangeOp;
  /** For an email: its uid in `mailboxId` and what happened to that membership (IMAP's view). */
  uid?: number | null;
  mailboxOp?: ChangeOp | null;
  threadId?: string | null;
}

/** Rows per multi-row INSERT: 9 parameters each stays far below SQLite's bound-parameter limit. */
const ROWS_PER_INSERT = 200;

export class ChangeRecorder {
  readonly #tx: Tx;
  readonly #touched = new Map<number, { mailboxIds: Set<number>; modseq: number }>();

  constructor(tx: Tx) {
    this.#tx = tx;
  }

  /** Logs one change and returns its id, the new MODSEQ. */
  async add(entry: ChangeEntry): Promise<number> {
    return (await this.addMany([entry]))[0]!;
  }

  /** Logs changes in order, in batches; returns their ids in the same order. */
  async addMany(entries: readonly ChangeEntry[]): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < entries.length; i += ROWS_PER_INSERT) {
      const chunk = entries.slice(i, i + ROWS_PER_INSERT);
      const rows = await this.#tx
        .insert(changes)
        .values(
          chunk.map((e) => ({
            ...e,
            uid: e.uid ?? null,
            mailboxOp: e.mailboxOp ?? null,
            threadId: e.threadId ?? null,
          })),
        )
        .returning({ id: changes.id });
      // SQLite gives a multi-row INSERT consecutive rowids in VALUES order.
      rows.sort((a, b) => a.id - b.id).forEach((r) => ids.push(r.id));
    }
    entries.forEach((e, i) => this.#touch(e.accountId, e.mailboxId, ids[i]!));
    return ids;
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
  since(accountId: number, type: "email" | "mailbox", since: number, upTo: number): Promise<LogEntry[]> {
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
