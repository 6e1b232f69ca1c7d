import { asc, eq } from "drizzle-orm";
import { normalizeDomain } from "../mime/address.ts";
import { isUniqueViolation, StoreError } from "./errors.ts";
import { accounts, aliases, domains } from "./schema.ts";
import type { Db } from "./db.ts";
import type { Store } from "./store.ts";

export type DomainKind = "mailbox" | "forward";
export type Domain = typeof domains.$inferSelect;

export class DomainRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  async add(name: string, kind: DomainKind = "mailbox"): Promise<Domain> {
    const normalized = normalizeDomain(name);
    if (!normalized) throw new StoreError("invalid", `Not a valid domain name: ${name}`);
    try {
      return await this.store.writeDirectory(async (tx) => {
        const [row] = await tx.insert(domains).values({ name: normalized, kind }).returning();
        return row!;
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new StoreError("exists", `Domain ${normalized} already exists`);
      throw e;
    }
  }

  list(): Promise<Domain[]> {
    return this.db.select().from(domains).orderBy(asc(domains.name));
  }

  async get(name: string): Promise<Domain | undefined> {
    const normalized = normalizeDomain(name);
    if (!normalized) return undefined;
    const [row] = await this.db.select().from(domains).where(eq(domains.name, normalized));
    return row;
  }

  /** Removes a domain that has no accounts and no aliases left. */
  async remove(name: string): Promise<void> {
    const domain = await this.get(name);
    if (!domain) throw new StoreError("not-found", `No such domain: ${name}`);
    await this.store.writeDirectory(async (tx) => {
      const [account] = await tx.select({ id: accounts.id }).from(accounts).where(eq(accounts.domainId, domain.id))
        .limit(1);
      const [alias] = await tx.select({ id: aliases.id }).from(aliases).where(eq(aliases.domainId, domain.id)).limit(1);
      if (account || alias) {
        throw new StoreError("in-use", `Domain ${domain.name} still has accounts or aliases; remove them first`);
      }
      await tx.delete(domains).where(eq(domains.id, domain.id));
    });
  }
}
