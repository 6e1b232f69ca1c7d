import { and, asc, eq } from "drizzle-orm";
import { dummyHash, hashPassword, verifyPassword } from "../auth/password.ts";
import { normalizeAddress } from "../mime/address.ts";
import { isUniqueViolation, StoreError } from "./errors.ts";
import { createMailbox, DEFAULT_MAILBOXES } from "./mailboxes.ts";
import { collectBlobs } from "./append.ts";
import { accounts, domains, emails, subscriptions, webSessions } from "./schema.ts";
import type { Db } from "./db.ts";
import type { Store } from "./store.ts";

export type Account = typeof accounts.$inferSelect;
export type AccountInfo = Omit<Account, "passwordHash" | "uidValidityLast">;

export interface NewAccount {
  address: string;
  password: string;
  displayName?: string;
  quota?: number;
}

/** Checks a password against an account's stored hash (`address` is the account's, normalized). */
export type PasswordCheck = (password: string, storedHash: string, address: string) => Promise<boolean>;

const info = ({ passwordHash: _, uidValidityLast: _last, ...rest }: Account): AccountInfo => rest;

export class AccountRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** Creates an account with its six default mailboxes, all in one transaction. */
  async add(input: NewAccount): Promise<AccountInfo> {
    const address = normalizeAddress(input.address);
    if (!address) throw new StoreError("invalid", `Not a valid address: ${input.address}`);
    if (input.password.length === 0) throw new StoreError("invalid", "The password must not be empty");
    const domainName = address.slice(address.lastIndexOf("@") + 1);
    const passwordHash = await hashPassword(input.password);
    try {
      return await this.store.writeDirectory(async (tx, changes) => {
        const [domain] = await tx.select().from(domains).where(eq(domains.name, domainName));
        if (!domain) throw new StoreError("not-found", `Domain ${domainName} does not exist; add it first`);
        if (domain.kind !== "mailbox") {
          throw new StoreError("invalid", `Domain ${domainName} is a forward-only domain and cannot hold accounts`);
        }
        const [row] = await tx
          .insert(accounts)
          .values({ domainId: domain.id, address, passwordHash, displayName: input.displayName, quota: input.quota })
          .returning();
        for (const m of DEFAULT_MAILBOXES) await createMailbox(tx, changes, row!.id, m.name, m.role);
        // The mailboxes every account starts with start subscribed (a later CREATE does not subscribe).
        await tx.insert(subscriptions).values(DEFAULT_MAILBOXES.map((m) => ({ accountId: row!.id, name: m.name })));
        return info(row!);
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreError("exists", `Account ${address} already exists`);
      throw e;
    }
  }

  async list(): Promise<AccountInfo[]> {
    return (await this.db.select().from(accounts).orderBy(asc(accounts.address))).map(info);
  }

  async get(address: string): Promise<AccountInfo | undefined> {
    const normalized = normalizeAddress(address);
    if (!normalized) return undefined;
    const [row] = await this.db.select().from(accounts).where(eq(accounts.address, normalized));
    return row && info(row);
  }

  /**
   * Checks a login. Unknown and disabled accounts cost the same work as a wrong password, and all
   * three answer the same null, so a caller cannot tell which it was. The row is read on every
   * call; `check` may answer from a cache of verified credentials (src/auth/credential-cache.ts)
   * keyed to the hash it is given, so a changed password or a disabled account counts at once.
   */
  async verify(address: string, password: string, check: PasswordCheck = verifyPassword): Promise<AccountInfo | null> {
    const normalized = normalizeAddress(address);
    const [row] = normalized ? await this.db.select().from(accounts).where(eq(accounts.address, normalized)) : [];
    if (!row || row.disabled) {
      // Never through the cache: a remembered password must not make a disabled account answer faster.
      await verifyPassword(password, row?.passwordHash ?? (await dummyHash()));
      return null;
    }
    return (await check(password, row.passwordHash, row.address)) ? info(row) : null;
  }

  async setPassword(address: string, password: string): Promise<void> {
    if (password.length === 0) throw new StoreError("invalid", "The password must not be empty");
    const account = await this.get(address);
    if (!account) throw new StoreError("not-found", `No such account: ${address}`);
    const passwordHash = await hashPassword(password);
    await this.store.writeDirectory(async (tx) => {
      await tx.update(accounts).set({ passwordHash }).where(eq(accounts.id, account.id));
      // A new password signs the account out of the webmail everywhere (issue 22).
      await tx.delete(webSessions).where(eq(webSessions.accountId, account.id));
    });
  }

  /**
   * Lets an account sign in to the admin console, or no longer (issue 22). Taking it away ends the account's admin
   * console sessions at once; its webmail sessions stay.
   */
  async setAdmin(address: string, admin: boolean): Promise<void> {
    const account = await this.get(address);
    if (!account) throw new StoreError("not-found", `No such account: ${address}`);
    await this.store.writeDirectory(async (tx) => {
      await tx.update(accounts).set({ admin }).where(eq(accounts.id, account.id));
      if (!admin) {
        await tx.delete(webSessions).where(and(eq(webSessions.accountId, account.id), eq(webSessions.admin, true)));
      }
    });
  }

  /** Removes an account with its mailboxes and messages. */
  async remove(address: string): Promise<void> {
    const account = await this.get(address);
    if (!account) throw new StoreError("not-found", `No such account: ${address}`);
    await this.store.writeDirectory(async (tx) => {
      const held = await tx.select({ hash: emails.blobHash }).from(emails).where(eq(emails.accountId, account.id));
      await tx.delete(accounts).where(eq(accounts.id, account.id));
      await collectBlobs(tx, held.map((h) => h.hash));
    });
  }
}
