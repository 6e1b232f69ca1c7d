/**
 * Reverse aliases (issue 19): which domains give forwarded mail reverse addresses, and the
 * mapping of each reverse address's token to its alias and correspondent.
 */
import { eq } from "drizzle-orm";
import type { ReverseAlias } from "../forward/reverse-alias.ts";
import { normalizeDomain } from "../mime/address.ts";
import { StoreError } from "./errors.ts";
import { domains, reverseAliases } from "./schema.ts";
import type { Db } from "./db.ts";
import type { Store } from "./store.ts";

export class ReverseAliasRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** Turns reverse addresses on or off for the aliases of a domain (off by default). */
  async enable(domain: string, enabled: boolean): Promise<void> {
    const name = normalizeDomain(domain);
    const [row] = name ? await this.db.select().from(domains).where(eq(domains.name, name)) : [];
    if (!row) throw new StoreError("not-found", `No such domain: ${domain}`);
    await this.store.writeDirectory((tx) =>
      tx.update(domains).set({ reverseAliases: enabled }).where(eq(domains.id, row.id))
    );
  }

  /**
   * Keeps the mapping of a token, once: the same alias and correspondent always have the same
   * token. A new one is a directory change, so a lookup cached before it does not hide it.
   */
  async remember(mapping: ReverseAlias): Promise<void> {
    if (await this.find(mapping.token)) return;
    const domain = mapping.alias.slice(mapping.alias.lastIndexOf("@") + 1);
    await this.store.writeDirectory(async (tx) => {
      const [row] = await tx.select({ id: domains.id }).from(domains).where(eq(domains.name, domain));
      if (!row) throw new StoreError("not-found", `No such domain: ${domain}`);
      await tx.insert(reverseAliases).values({
        token: mapping.token,
        domainId: row.id,
        alias: mapping.alias,
        correspondent: mapping.correspondent,
      }).onConflictDoNothing();
    });
  }

  async find(token: string): Promise<ReverseAlias | undefined> {
    const [row] = await this.db
      .select({ token: reverseAliases.token, alias: reverseAliases.alias, correspondent: reverseAliases.correspondent })
      .from(reverseAliases)
      .where(eq(reverseAliases.token, token.toLowerCase()));
    return row;
  }

  /** When the owner last replied through it. Not a directory change. */
  async recordUse(tokens: readonly string[], at = new Date()): Promise<void> {
    for (const token of new Set(tokens)) {
      await this.store.write((tx) =>
        tx.update(reverseAliases).set({ lastUsedAt: at }).where(eq(reverseAliases.token, token))
      );
    }
  }
}
