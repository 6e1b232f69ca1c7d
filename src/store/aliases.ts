import { and, asc, eq, inArray, like, type SQL, sql } from "drizzle-orm";
import { isWebhookUrl, webhookTargetRefusal } from "../forward/webhook-target.ts";
import type { AllowPrivateTargets } from "../net/outbound-url.ts";
import { normalizeAddress, normalizeDomain } from "../mime/address.ts";
import { StoreError } from "./errors.ts";
import { ReverseAliasRepository } from "./reverse-aliases.ts";
import { accounts, aliases, aliasTargets, domains } from "./schema.ts";
import type { Db } from "./db.ts";
import type { Store } from "./store.ts";

export interface Alias {
  address: string;
  targets: string[];
}

/** What routing needs: the targets, whether the alias is turned off, and who owns it. */
export interface AliasRoute extends Alias {
  disabled: boolean;
  /** The account managing it with its API token; null for the admin's. */
  ownerId: number | null;
}

/** An alias with its state and counters, for the admin (REST, CLI) and its owner. */
export interface AliasDetails extends Omit<AliasRoute, "ownerId"> {
  /** The row's id: stable for the alias's life (JMAP's Alias id). */
  id: number;
  /** The account that manages it with its API token; null for the admin's own. */
  owner: string | null;
  /** Messages forwarded (or delivered) through it. */
  forwarded: number;
  /** Recipients refused, or accepted and dropped, while it was disabled. */
  refused: number;
  lastUsedAt: Date | null;
}

export type TargetKind = "address" | "webhook";

export interface AddOptions {
  /** Plain http:// webhooks to hosts other than loopback (webhooks.allowHttp). */
  allowHttp?: boolean;
  /** Webhooks at private IP addresses (outbound.allowPrivateTargets, issue 18). */
  allowPrivateTargets?: AllowPrivateTargets;
}

/** `user@domain` (`*` in the local part makes it a pattern), or `@domain` for a catch-all. */
function normalizeAliasAddress(address: string): { address: string; domain: string } | null {
  if (address.startsWith("@")) {
    const domain = normalizeDomain(address.slice(1));
    return domain ? { address: `@${domain}`, domain } : null;
  }
  const normalized = normalizeAddress(address);
  return normalized ? { address: normalized, domain: normalized.slice(normalized.lastIndexOf("@") + 1) } : null;
}

/** A target as stored; throws `invalid` with the reason when it cannot be one. */
export function classifyTarget(target: string, options: AddOptions = {}): { target: string; kind: TargetKind } {
  if (isWebhookUrl(target)) {
    const refusal = webhookTargetRefusal(target, options);
    if (refusal) throw new StoreError("invalid", refusal);
    return { target: new URL(target).toString(), kind: "webhook" };
  }
  const address = normalizeAddress(target);
  if (!address) throw new StoreError("invalid", `Not a valid target: ${target} (use an address or an https:// URL)`);
  return { target: address, kind: "address" };
}

type Row = typeof aliases.$inferSelect;

export class AliasRepository {
  /** Reverse addresses (reply through the alias): the domain switch and the mapping. */
  readonly reverse: ReverseAliasRepository;

  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {
    this.reverse = new ReverseAliasRepository(store, db);
  }

  /**
   * Creates the alias, or adds targets to an existing one. With `ownerId` (an account's own API
   * token) the domain must allow owners, the targets must be the owner's own address, and an
   * existing alias must be the owner's.
   */
  async add(address: string, targets: readonly string[], options: AddOptions & { ownerId?: number } = {}) {
    const name = normalizeAliasAddress(address);
    if (!name) throw new StoreError("invalid", `Not a valid alias address: ${address} (use user@domain or @domain)`);
    if (targets.length === 0) throw new StoreError("invalid", "An alias needs at least one target");
    const classified = targets.map((t) => classifyTarget(t, options));
    return this.store.writeDirectory(async (tx) => {
      const [domain] = await tx.select().from(domains).where(eq(domains.name, name.domain));
      if (!domain) throw new StoreError("not-found", `Domain ${name.domain} does not exist; add it first`);
      if (options.ownerId !== undefined) {
        if (!domain.ownerAliases) {
          throw new StoreError("invalid", `Domain ${domain.name} does not let owners add aliases`);
        }
        if (name.address.startsWith("@")) throw new StoreError("invalid", "Only the admin may add a catch-all");
        const [owner] = await tx.select().from(accounts).where(eq(accounts.id, options.ownerId));
        const foreign = classified.find((c) => c.target !== owner?.address);
        if (foreign) throw new StoreError("invalid", `An alias you own may only deliver to your own address`);
      }
      let [row] = await tx.select().from(aliases).where(eq(aliases.address, name.address));
      if (row && options.ownerId !== undefined && row.ownerId !== options.ownerId) {
        throw new StoreError("exists", `Alias ${name.address} already exists`);
      }
      row ??= (await tx.insert(aliases).values({
        address: name.address,
        domainId: domain.id,
        ownerId: options.ownerId ?? null,
      }).returning())[0]!;
      await tx
        .insert(aliasTargets)
        .values(classified.map((c) => ({ aliasId: row.id, target: c.target, kind: c.kind })))
        .onConflictDoNothing();
      const all = await tx.select().from(aliasTargets).where(eq(aliasTargets.aliasId, row.id));
      return { address: row.address, targets: all.map((t) => t.target).sort() };
    });
  }

  async list(): Promise<Alias[]> {
    return (await this.details()).map(({ address, targets }) => ({ address, targets }));
  }

  async get(address: string): Promise<Alias | undefined> {
    const found = await this.route(address);
    return found && { address: found.address, targets: found.targets };
  }

  /** The alias with this exact address (a pattern's own address included), for routing. */
  async route(address: string): Promise<AliasRoute | undefined> {
    const name = normalizeAliasAddress(address);
    return name ? (await this.#routes(eq(aliases.address, name.address)))[0] : undefined;
  }

  /** The pattern aliases of a domain (local parts with `*`). */
  async patterns(domain: string): Promise<AliasRoute[]> {
    const name = normalizeDomain(domain);
    return name ? this.#routes(like(aliases.address, `%*%@${name}`)) : [];
  }

  async #routes(where: SQL): Promise<AliasRoute[]> {
    const rows = await this.db
      .select({
        address: aliases.address,
        target: aliasTargets.target,
        disabled: aliases.disabled,
        ownerId: aliases.ownerId,
      })
      .from(aliases)
      .innerJoin(aliasTargets, eq(aliasTargets.aliasId, aliases.id))
      .where(where)
      .orderBy(asc(aliases.address), asc(aliasTargets.target));
    const byAddress = new Map<string, AliasRoute>();
    for (const { address, target, disabled, ownerId } of rows) {
      const found = byAddress.get(address);
      if (found) found.targets.push(target);
      else byAddress.set(address, { address, targets: [target], disabled, ownerId });
    }
    return [...byAddress.values()];
  }

  /** Every alias with its state and counters; only an account's own with `ownerId`. */
  details(ownerId?: number): Promise<AliasDetails[]> {
    return this.#details(ownerId === undefined ? undefined : eq(aliases.ownerId, ownerId));
  }

  async detail(address: string): Promise<AliasDetails | undefined> {
    const name = normalizeAliasAddress(address);
    return name ? (await this.#details(eq(aliases.address, name.address)))[0] : undefined;
  }

  async #details(where?: SQL): Promise<AliasDetails[]> {
    const rows = await this.db
      .select({ alias: aliases, target: aliasTargets.target, owner: accounts.address })
      .from(aliases)
      .innerJoin(aliasTargets, eq(aliasTargets.aliasId, aliases.id))
      .leftJoin(accounts, eq(accounts.id, aliases.ownerId))
      .where(where)
      .orderBy(asc(aliases.address), asc(aliasTargets.target));
    const byId = new Map<number, AliasDetails>();
    for (const { alias, target, owner } of rows) {
      const found = byId.get(alias.id);
      if (found) found.targets.push(target);
      else byId.set(alias.id, details(alias, target, owner));
    }
    return [...byId.values()];
  }

  /** Turns an alias off or on; with `ownerId`, only the owner's own. */
  async setDisabled(address: string, disabled: boolean, ownerId?: number): Promise<AliasDetails> {
    const row = await this.#owned(address, ownerId);
    await this.store.writeDirectory((tx) => tx.update(aliases).set({ disabled }).where(eq(aliases.id, row.id)));
    return (await this.detail(row.address))!;
  }

  /**
   * Counts mail that reached aliases: `forwarded` when it was routed through them, `refused` when
   * a disabled one refused (or dropped) it. Not a directory change: routing caches stay valid.
   */
  async recordUse(addresses: readonly string[], outcome: "forwarded" | "refused", at = new Date()): Promise<void> {
    if (addresses.length === 0) return;
    const set = outcome === "forwarded"
      ? { forwarded: sql`${aliases.forwarded} + 1`, lastUsedAt: at }
      : { refused: sql`${aliases.refused} + 1`, lastUsedAt: at };
    await this.store.write((tx) =>
      tx.update(aliases).set(set).where(inArray(aliases.address, [...new Set(addresses)]))
    );
  }

  /** Lets the accounts (with their API tokens) manage their own aliases at a domain, or stops it. */
  async allowOwners(domain: string, allowed: boolean): Promise<void> {
    const name = normalizeDomain(domain);
    const [row] = name ? await this.db.select().from(domains).where(eq(domains.name, name)) : [];
    if (!row) throw new StoreError("not-found", `No such domain: ${domain}`);
    await this.store.writeDirectory((tx) =>
      tx.update(domains).set({ ownerAliases: allowed }).where(eq(domains.id, row.id))
    );
  }

  /** Removes the given targets, or the whole alias when none are given (or none would be left). */
  async remove(address: string, targets: readonly string[] = [], ownerId?: number): Promise<void> {
    const row = await this.#owned(address, ownerId);
    await this.store.writeDirectory(async (tx) => {
      if (targets.length > 0) {
        const normalized = targets.map((t) => {
          try {
            return classifyTarget(t, { allowHttp: true, allowPrivateTargets: true }).target;
          } catch {
            return t;
          }
        });
        await tx
          .delete(aliasTargets)
          .where(and(eq(aliasTargets.aliasId, row.id), inArray(aliasTargets.target, normalized)));
        const left = await tx.select().from(aliasTargets).where(eq(aliasTargets.aliasId, row.id)).limit(1);
        if (left.length > 0) return;
      }
      await tx.delete(aliases).where(eq(aliases.id, row.id));
    });
  }

  /** The alias row; with `ownerId`, only if that account owns it (another's is "not found"). */
  async #owned(address: string, ownerId?: number): Promise<Row> {
    const name = normalizeAliasAddress(address);
    if (!name) throw new StoreError("invalid", `Not a valid alias address: ${address}`);
    const [row] = await this.db.select().from(aliases).where(
      ownerId === undefined
        ? eq(aliases.address, name.address)
        : and(eq(aliases.address, name.address), eq(aliases.ownerId, ownerId)),
    );
    if (!row) throw new StoreError("not-found", `No such alias: ${name.address}`);
    return row;
  }
}

function details(alias: Row, target: string, owner: string | null): AliasDetails {
  return {
    id: alias.id,
    address: alias.address,
    targets: [target],
    disabled: alias.disabled,
    owner,
    forwarded: alias.forwarded,
    refused: alias.refused,
    lastUsedAt: alias.lastUsedAt,
  };
}
