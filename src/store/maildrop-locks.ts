/**
 * POP3 maildrop locks (RFC 1939 §8: a maildrop is open in one session at a time), in the
 * database so that every process sharing it agrees. A lock names its owner (the process's
 * `instanceId` and a session number) and holds until `expiresAt`; the process renews its locks
 * while it lives, so the locks of a process that died lapse and the maildrop opens again.
 */
import { sql } from "drizzle-orm";
import type { Db } from "./db.ts";
import type { Store } from "./store.ts";

export class MaildropLocks {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /**
   * Takes the account's lock for `owner` until `until`; false when another owner holds it and
   * its lock has not lapsed. `from`: an owner known to be gone, whose lock is taken over at once.
   */
  take(accountId: number, owner: string, until: Date, from?: string, now = new Date()): Promise<boolean> {
    return this.store.write(async (tx) => {
      const rows = await tx.all(sql`
        INSERT INTO maildrop_locks (account_id, owner, expires_at) VALUES (${accountId}, ${owner}, ${until.getTime()})
        ON CONFLICT (account_id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at
        WHERE maildrop_locks.expires_at < ${now.getTime()} OR maildrop_locks.owner = ${from ?? null}
        RETURNING account_id`);
      return rows.length > 0;
    });
  }

  /** Gives the lock back, if `owner` still holds it. */
  async release(accountId: number, owner: string): Promise<void> {
    await this.store.write((tx) =>
      tx.run(sql`DELETE FROM maildrop_locks WHERE account_id = ${accountId} AND owner = ${owner}`)
    );
  }

  /** Extends every lock whose owner starts with `prefix` (this process's) to `until`. */
  async renew(prefix: string, until: Date): Promise<void> {
    await this.store.write((tx) =>
      tx.run(sql`UPDATE maildrop_locks SET expires_at = ${until.getTime()}
        WHERE substr(owner, 1, ${prefix.length}) = ${prefix}`)
    );
  }

  /** Who holds the account's maildrop, if anyone (for tests and diagnostics). */
  async holder(accountId: number): Promise<{ owner: string; expiresAt: Date } | undefined> {
    const [row] = await this.db.all<{ owner: string; expiresAt: number }>(
      sql`SELECT owner, expires_at AS expiresAt FROM maildrop_locks WHERE account_id = ${accountId}`,
    );
    return row ? { owner: row.owner, expiresAt: new Date(Number(row.expiresAt)) } : undefined;
  }
}
