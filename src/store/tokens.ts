/**
 * Per-account API tokens: 32 random bytes shown once as `pt_<base64url>`; only their SHA-256 is
 * stored, so a database leak does not leak working tokens.
 */
import { createHash, randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { StoreError } from "./errors.ts";
import { accounts, apiTokens } from "./schema.ts";
import type { Db } from "./db.ts";
import type { Store } from "./store.ts";

const digest = (token: string) => createHash("sha256").update(token).digest("hex");

export class TokenRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  async create(address: string, name: string): Promise<{ id: number; token: string }> {
    const account = await this.store.accounts.get(address);
    if (!account) throw new StoreError("not-found", `No account ${address}`);
    const token = `pt_${randomBytes(32).toString("base64url")}`;
    const [row] = await this.store.write((tx) =>
      tx.insert(apiTokens).values({ accountId: account.id, name, hash: digest(token) }).returning({ id: apiTokens.id })
    );
    return { id: row!.id, token };
  }

  async list(address: string): Promise<Array<{ id: number; name: string; createdAt: Date }>> {
    const account = await this.store.accounts.get(address);
    if (!account) throw new StoreError("not-found", `No account ${address}`);
    return this.db.select({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt }).from(apiTokens)
      .where(eq(apiTokens.accountId, account.id));
  }

  async revoke(address: string, id: number): Promise<void> {
    const account = await this.store.accounts.get(address);
    if (!account) throw new StoreError("not-found", `No account ${address}`);
    const removed = await this.store.write((tx) =>
      tx.delete(apiTokens).where(and(eq(apiTokens.id, id), eq(apiTokens.accountId, account.id))).returning({
        id: apiTokens.id,
      })
    );
    if (removed.length === 0) throw new StoreError("not-found", `No token ${id} for ${address}`);
  }

  /** The account a token belongs to, or null (disabled accounts too). */
  async verify(token: string): Promise<{ id: number; address: string } | null> {
    const [row] = await this.db
      .select({ id: accounts.id, address: accounts.address, disabled: accounts.disabled })
      .from(apiTokens)
      .innerJoin(accounts, eq(accounts.id, apiTokens.accountId))
      .where(eq(apiTokens.hash, digest(token)));
    return row && !row.disabled ? { id: row.id, address: row.address } : null;
  }
}
