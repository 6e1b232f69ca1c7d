/**
 * Reindexing: recomputes the stored summary of emails whose `summary_version` is older than
 * `SUMMARY_VERSION`, from their blobs, so that a message stored by any earlier build reads the
 * same as a new one (`postern reindex`, and in the background at `serve`).
 *
 * It works in batches ordered by email id. Each batch reads its blobs and parses them outside any
 * transaction, then writes the new summaries in one short write through `store.write`, so it is
 * safe while the server runs: deliveries and IMAP/JMAP writes interleave between batches. Each
 * batch picks the next stale rows afresh, so an interrupted run simply continues where it stopped.
 * Thread ids are identities and are never recomputed; nothing is logged in the change log (the
 * email is the same email, only its parsed form is).
 */
import { and, asc, count, eq, gt, lt } from "drizzle-orm";
import { type MessageSummary, summarize, SUMMARY_VERSION } from "../mime/summary.ts";
import type { Db } from "./db.ts";
import { blobs, emails } from "./schema.ts";
import type { Store } from "./store.ts";

export interface ReindexOptions {
  /** Only this account's emails. */
  accountId?: number;
  /** Emails per write transaction (default 200). */
  batchSize?: number;
  /** Stop after this many batches (the rest is left for the next run). */
  maxBatches?: number;
  /** Checked between batches: an aborted run stops after the batch in progress has committed. */
  signal?: AbortSignal;
  /** Called after each committed batch, with the totals so far. */
  onBatch?: (progress: ReindexResult) => void;
}

export interface ReindexResult {
  /** Stale emails looked at. */
  scanned: number;
  /** Emails whose summary was rewritten (less than `scanned` only when an email vanished meanwhile, or its blob is unreadable). */
  updated: number;
  /** True when the run went through every stale email it found (not stopped by `maxBatches` or the signal). */
  complete: boolean;
}

const DEFAULT_BATCH = 200;

interface Recomputed {
  id: number;
  summary: MessageSummary;
}

export class SummaryReindexer {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** How many emails (of one account, or all) have a summary older than this build's. */
  async stale(accountId?: number): Promise<number> {
    const [row] = await this.db.select({ n: count() }).from(emails).where(staleWhere(accountId));
    return row?.n ?? 0;
  }

  /** Recomputes stale summaries in batches (see the file comment). */
  async reindex(options: ReindexOptions = {}): Promise<ReindexResult> {
    const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH);
    const result: ReindexResult = { scanned: 0, updated: 0, complete: false };
    // Within one run, never look at an id twice: an email that cannot be rewritten (its blob is
    // unreadable) is left stale and skipped rather than picked again forever.
    let after = 0;
    for (let batches = 0;; batches++) {
      if (options.signal?.aborted || (options.maxBatches !== undefined && batches >= options.maxBatches)) return result;
      const rows = await this.db
        .select({ id: emails.id, blobHash: emails.blobHash })
        .from(emails)
        .where(and(staleWhere(options.accountId), gt(emails.id, after)))
        .orderBy(asc(emails.id))
        .limit(batchSize);
      if (rows.length === 0) {
        result.complete = true;
        return result;
      }
      after = rows[rows.length - 1]!.id;
      result.scanned += rows.length;
      const recomputed: Recomputed[] = [];
      // One blob in memory at a time: messages may be large, summaries are small.
      for (const row of rows) {
        const summary = await this.#summarize(row.blobHash);
        if (summary) recomputed.push({ id: row.id, summary });
      }
      if (recomputed.length) result.updated += await this.#write(recomputed);
      options.onBatch?.({ ...result });
      if (rows.length < batchSize) {
        result.complete = true;
        return result;
      }
    }
  }

  async #summarize(hash: string): Promise<MessageSummary | null> {
    const [blob] = await this.db.select({ data: blobs.data }).from(blobs).where(eq(blobs.hash, hash));
    if (!blob) return null;
    try {
      return summarize(new Uint8Array(blob.data));
    } catch {
      // summarize() is total; should it ever throw, the email keeps its old summary.
      return null;
    }
  }

  /** One short write: the new summaries and the columns derived from them. Returns the rows changed. */
  #write(recomputed: readonly Recomputed[]): Promise<number> {
    return this.store.write(async (tx) => {
      let changed = 0;
      for (const { id, summary } of recomputed) {
        const rows = await tx
          .update(emails)
          .set({
            summary,
            summaryVersion: SUMMARY_VERSION,
            messageId: summary.messageId,
            subject: summary.subject,
            sentAt: summary.sentAt === null ? null : new Date(summary.sentAt),
          })
          // Still stale: another run (the CLI beside `serve`) may have done it meanwhile.
          .where(and(eq(emails.id, id), lt(emails.summaryVersion, SUMMARY_VERSION)))
          .returning({ id: emails.id });
        changed += rows.length;
      }
      return changed;
    });
  }
}

function staleWhere(accountId: number | undefined) {
  return and(
    lt(emails.summaryVersion, SUMMARY_VERSION),
    accountId === undefined ? undefined : eq(emails.accountId, accountId),
  );
}
