/**
 * JMAP identities (RFC 8621 §6): the addresses an account sends as, with a name and signatures.
 * An account that has none gets one for its own address the first time it is asked. Every
 * change is logged as type "identity", so Identity/changes reads the same change log as the rest.
 */
import { and, asc, eq } from "drizzle-orm";
import type { Db, Tx } from "./db.ts";
import type { ChangeRecorder } from "./change-log.ts";
import { accounts, aliases, aliasTargets, identities } from "./schema.ts";
import type { Store } from "./store.ts";

export type Identity = Omit<typeof identities.$inferSelect, "createdAt">;
export type IdentityFields = Partial<Omit<Identity, "id" | "accountId">>;

const columns = {
  id: identities.id,
  accountId: identities.accountId,
  name: identities.name,
  email: identities.email,
  replyTo: identities.replyTo,
  bcc: identities.bcc,
  textSignature: identities.textSignature,
  htmlSignature: identities.htmlSignature,
};

export class IdentityRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** The account's identities, oldest first; one for its own address is made when it has none. */
  async list(accountId: number): Promise<Identity[]> {
    const rows = await this.#list(this.db, accountId);
    if (rows.length) return rows;
    return this.store.write(async (tx, changes) => {
      const again = await this.#list(tx, accountId);
      if (again.length) return again;
      const [account] = await tx.select({ address: accounts.address, name: accounts.displayName }).from(accounts)
        .where(eq(accounts.id, accountId));
      if (!account) return [];
      await this.#insert(tx, changes, accountId, { email: account.address, name: account.name ?? "" });
      return this.#list(tx, accountId);
    });
  }

  /**
   * The addresses the account may send as: its own, and those of the enabled aliases that deliver
   * to it (RFC 8621 §6: the server decides which; others are forbiddenFrom).
   */
  async sendableAddresses(accountId: number): Promise<string[]> {
    const [account] = await this.db.select({ address: accounts.address }).from(accounts)
      .where(eq(accounts.id, accountId));
    if (!account) return [];
    const rows = await this.db.select({ address: aliases.address }).from(aliases)
      .innerJoin(aliasTargets, eq(aliasTargets.aliasId, aliases.id))
      .where(and(eq(aliasTargets.target, account.address), eq(aliases.disabled, false)));
    return [account.address, ...rows.map((r) => r.address).filter((a) => !a.startsWith("@") && !a.includes("*"))];
  }

  create(accountId: number, fields: IdentityFields & { email: string }): Promise<Identity> {
    return this.store.write(async (tx, changes) => {
      const id = await this.#insert(tx, changes, accountId, fields);
      const [row] = await tx.select(columns).from(identities).where(eq(identities.id, id));
      return row!;
    });
  }

  /** False when the account has no such identity. */
  update(accountId: number, id: number, fields: IdentityFields): Promise<boolean> {
    return this.store.write(async (tx, changes) => {
      const rows = await tx.update(identities).set(fields)
        .where(and(eq(identities.id, id), eq(identities.accountId, accountId))).returning({ id: identities.id });
      if (!rows.length) return false;
      await changes.add({ accountId, mailboxId: null, type: "identity", objectId: id, op: "updated" });
      return true;
    });
  }

  destroy(accountId: number, id: number): Promise<boolean> {
    return this.store.write(async (tx, changes) => {
      const rows = await tx.delete(identities).where(and(eq(identities.id, id), eq(identities.accountId, accountId)))
        .returning({ id: identities.id });
      if (!rows.length) return false;
      await changes.add({ accountId, mailboxId: null, type: "identity", objectId: id, op: "destroyed" });
      return true;
    });
  }

  #list(db: Db | Tx, accountId: number): Promise<Identity[]> {
    return db.select(columns).from(identities).where(eq(identities.accountId, accountId)).orderBy(asc(identities.id));
  }

  async #insert(tx: Tx, changes: ChangeRecorder, accountId: number, fields: IdentityFields & { email: string }) {
    const [row] = await tx.insert(identities).values({ ...fields, accountId }).returning({ id: identities.id });
    await changes.add({ accountId, mailboxId: null, type: "identity", objectId: row!.id, op: "created" });
    return row!.id;
  }
}
