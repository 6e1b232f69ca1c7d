import { and, asc, eq, inArray } from "drizzle-orm";
import { isWebhookUrl } from "../forward/webhook-target.ts";
import { normalizeAddress, normalizeDomain } from "../mime/address.ts";
import { StoreError } from "./errors.ts";
import { aliases, aliasTargets, domains } from "./schema.ts";
import type { Db } from "./db.ts";
import type { Store } from "./store.ts";

export interface Alias {
  address: string;
  targets: string[];
}

export type TargetKind = "address" | "webhook";

/** `user@domain`, or `@domain` for a catch-all. Returns the normalised address and its domain. */
function normalizeAliasAddress(address: string): { address: string; domain: string } | null {
  if (address.startsWith("@")) {
    const domain = normalizeDomain(address.slice(1));
    return domain ? { address: `@${domain}`, domain } : null;
  }
  const normalized = normalizeAddress(address);
  return normalized ? { address: normalized, domain: normalized.slice(normalized.lastIndexOf("@") + 1) } : null;
}

export function classifyTarget(target: string): { target: string; kind: TargetKind } | null {
  // Whether plain http:// may be used is the delivery's question (webhooks.allowHttp).
  if (isWebhookUrl(target)) {
    try {
      return { target: new URL(target).toString(), kind: "webhook" };
    } catch {
      return null;
    }
  }
  const address = normalizeAddress(target);
  return address ? { target: address, kind: "address" } : null;
}

export class AliasRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** Creates the alias, or adds targets to an existing one. */
  async add(address: string, targets: readonly string[]): Promise<Alias> {
    const name = normalizeAliasAddress(address);
    if (!name) throw new StoreError("invalid", `Not a valid alias address: ${address} (use user@domain or @domain)`);
    if (targets.length === 0) throw new StoreError("invalid", "An alias needs at least one target");
    const classified = targets.map((t) => {
      const c = classifyTarget(t);
      if (!c) throw new StoreError("invalid", `Not a valid target: ${t} (use an address or an http(s):// URL)`);
      return c;
    });
    return this.store.writeDirectory(async (tx) => {
      const [domain] = await tx.select().from(domains).where(eq(domains.name, name.domain));
      if (!domain) throw new StoreError("not-found", `Domain ${name.domain} does not exist; add it first`);
      let [row] = await tx.select().from(aliases).where(eq(aliases.address, name.address));
      row ??= (await tx.insert(aliases).values({ address: name.address, domainId: domain.id }).returning())[0]!;
      await tx
        .insert(aliasTargets)
        .values(classified.map((c) => ({ aliasId: row.id, target: c.target, kind: c.kind })))
        .onConflictDoNothing();
      const all = await tx.select().from(aliasTargets).where(eq(aliasTargets.aliasId, row.id));
      return { address: row.address, targets: all.map((t) => t.target).sort() };
    });
  }

  async list(): Promise<Alias[]> {
    const rows = await this.db
      .select({ address: aliases.address, target: aliasTargets.target })
      .from(aliases)
      .innerJoin(aliasTargets, eq(aliasTargets.aliasId, aliases.id))
      .orderBy(asc(aliases.address), asc(aliasTargets.target));
    const byAddress = new Map<string, string[]>();
    for (const r of rows) byAddress.set(r.address, [...(byAddress.get(r.address) ?? []), r.target]);
    return [...byAddress].map(([address, targets]) => ({ address, targets }));
  }

  async get(address: string): Promise<Alias | undefined> {
    const name = normalizeAliasAddress(address);
    if (!name) return undefined;
    const rows = await this.db
      .select({ target: aliasTargets.target })
      .from(aliases)
      .innerJoin(aliasTargets, eq(aliasTargets.aliasId, aliases.id))
      .where(eq(aliases.address, name.address));
    return rows.length ? { address: name.address, targets: rows.map((r) => r.target).sort() } : undefined;
  }

  /** Removes the given targets, or the whole alias when none are given (or none would be left). */
  async remove(address: string, targets: readonly string[] = []): Promise<void> {
    const name = normalizeAliasAddress(address);
    if (!name) throw new StoreError("invalid", `Not a valid alias address: ${address}`);
    await this.store.writeDirectory(async (tx) => {
      const [row] = await tx.select().from(aliases).where(eq(aliases.address, name.address));
      if (!row) throw new StoreError("not-found", `No such alias: ${name.address}`);
      if (targets.length > 0) {
        const normalized = targets.map((t) => classifyTarget(t)?.target ?? t);
        await tx
          .delete(aliasTargets)
          .where(and(eq(aliasTargets.aliasId, row.id), inArray(aliasTargets.target, normalized)));
        const left = await tx.select().from(aliasTargets).where(eq(aliasTargets.aliasId, row.id)).limit(1);
        if (left.length > 0) return;
      }
      await tx.delete(aliases).where(eq(aliases.id, row.id));
    });
  }
}
