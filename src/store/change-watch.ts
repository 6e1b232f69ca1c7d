/**
 * Changes committed by other processes on the same database (`serve --workers N`, several
 * servers on one libSQL server, a CLI command): every few hundred milliseconds the store reads
 * the change log's newest id, and when it moved, which accounts and mailboxes changed since, and
 * publishes that on the change feed like a change of its own. IMAP IDLE and JMAP push then learn
 * of a message delivered by another process within the interval. One indexed read per interval
 * while nothing changes.
 */
import { sql } from "drizzle-orm";
import type { ChangeEvent, ChangeFeed } from "./change-feed.ts";
import type { Db } from "./db.ts";

export class ChangeWatcher {
  #seen: number | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #polling = false;

  constructor(
    private readonly db: Db,
    private readonly feed: ChangeFeed,
  ) {}

  start(intervalMs: number): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.poll(), intervalMs);
    (this.#timer as { unref?: () => void }).unref?.();
    void this.poll();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One look at the log; publishes what changed since the last one. */
  async poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      const [top] = await this.db.all<{ id: number | null }>(sql`SELECT max(id) AS id FROM changes`);
      const newest = Number(top?.id ?? 0);
      const since = this.#seen;
      this.#seen = newest;
      // Nothing to tell on the first look, or when nobody listens.
      if (since === null || newest <= since || !this.feed.listening) return;
      const rows = await this.db.all<{ accountId: number; mailboxId: number | null; modseq: number }>(sql`
        SELECT account_id AS accountId, mailbox_id AS mailboxId, max(id) AS modseq FROM changes
        WHERE id > ${since} AND id <= ${newest} GROUP BY account_id, mailbox_id`);
      const events = new Map<number, ChangeEvent>();
      for (const row of rows) {
        let event = events.get(row.accountId);
        if (!event) events.set(row.accountId, event = { accountId: row.accountId, mailboxIds: [], modseq: 0 });
        if (row.mailboxId !== null) event.mailboxIds.push(row.mailboxId);
        event.modseq = Math.max(event.modseq, row.modseq);
      }
      for (const event of events.values()) this.feed.publishIfNewer(event);
    } catch {
      // A closed or briefly busy database: the next look tries again.
    } finally {
      this.#polling = false;
    }
  }
}
