/**
 * Webmail sessions (issue 22): a random cookie token of which only the SHA-256 is stored (a database leak gives no
 * working session), the CSRF token the page echoes, and the last use for the idle timeout. Kept in the database so
 * that every `--workers` process sees the same sessions and signing out revokes one everywhere.
 */
import { createHash, randomBytes } from "node:crypto";
import { eq, lt } from "drizzle-orm";
import type { Db } from "./db.ts";
import { accounts, webSessions } from "./schema.ts";
import type { Store } from "./store.ts";

const digest = (token: string) => createHash("sha256").update(token).digest("hex");

export interface WebSession {
  accountId: number;
  address: string;
  csrf: string;
  /** A sign-in to the admin console rather than the webmail. */
  admin: boolean;
}

/** The last use is written at most this often, so reading mail does not write on every request. */
const TOUCH_MS = 60_000;

export class WebSessionRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /**
   * A new session for an account, of the webmail or (`admin`) of the admin console; the token goes in the cookie and
   * nowhere else.
   */
  async create(accountId: number, admin = false): Promise<{ token: string; csrf: string }> {
    const token = randomBytes(32).toString("base64url");
    const csrf = randomBytes(24).toString("base64url");
    await this.store.write((tx) =>
      tx.insert(webSessions).values({ id: digest(token), accountId, csrf, admin, lastSeenAt: new Date() })
    );
    return { token, csrf };
  }

  /**
   * The session of a cookie token, if it was used within `idleMs` and its account is not disabled (nor, for an admin
   * console session, no longer admin); refreshes its last use. A session idle for longer is deleted.
   */
  async use(token: string, idleMs: number, now = new Date()): Promise<WebSession | null> {
    const id = digest(token);
    const [row] = await this.db
      .select({
        accountId: webSessions.accountId,
        csrf: webSessions.csrf,
        admin: webSessions.admin,
        accountAdmin: accounts.admin,
        lastSeenAt: webSessions.lastSeenAt,
        address: accounts.address,
        disabled: accounts.disabled,
      })
      .from(webSessions)
      .innerJoin(accounts, eq(accounts.id, webSessions.accountId))
      .where(eq(webSessions.id, id));
    if (!row) return null;
    const idle = now.getTime() - row.lastSeenAt.getTime();
    if (idle > idleMs) {
      await this.store.write((tx) => tx.delete(webSessions).where(eq(webSessions.id, id)));
      return null;
    }
    if (row.disabled || (row.admin && !row.accountAdmin)) return null;
    if (idle > TOUCH_MS) {
      await this.store.write((tx) => tx.update(webSessions).set({ lastSeenAt: now }).where(eq(webSessions.id, id)));
    }
    return { accountId: row.accountId, address: row.address, csrf: row.csrf, admin: row.admin };
  }

  /** Signing out: the token stops working at once, in every process. */
  async revoke(token: string): Promise<void> {
    await this.store.write((tx) => tx.delete(webSessions).where(eq(webSessions.id, digest(token))));
  }

  /** Removes sessions idle for longer than `idleMs` (of every account); returns how many. */
  async expire(idleMs: number, now = new Date()): Promise<number> {
    const removed = await this.store.write((tx) =>
      tx.delete(webSessions).where(lt(webSessions.lastSeenAt, new Date(now.getTime() - idleMs))).returning({
        id: webSessions.id,
      })
    );
    return removed.length;
  }

  /** Signs an account out everywhere (password change, disabling). */
  async revokeAccount(accountId: number): Promise<void> {
    await this.store.write((tx) => tx.delete(webSessions).where(eq(webSessions.accountId, accountId)));
  }
}
