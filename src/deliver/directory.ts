/**
 * Who an address is: a local account, an alias (exact, plus-address, pattern or catch-all, in that
 * order), a disabled alias, unknown at a local domain, or not ours at all. Used at RCPT time and
 * again when routing the accepted message.
 */
import { ReverseAddresses } from "../forward/reverse-alias.ts";
import { Srs } from "../forward/srs.ts";
import { bestPattern } from "../forward/alias-pattern.ts";
import { normalizeDomain, parseAddress } from "../mime/address.ts";
import { MAX_LOCAL_PART } from "../smtp/path.ts";
import type { AliasRoute } from "../store/aliases.ts";
import type { Store } from "../store/store.ts";

export type Recipient =
  | { kind: "account"; address: string; accountId: number; quota: number | null }
  /**
   * `alias` is the alias row's own address (a pattern, `@domain`), absent for role addresses;
   * `reverse` when its domain gives forwarded mail reverse addresses; `ownerId` its owner's account.
   */
  | { kind: "alias"; address: string; targets: string[]; alias?: string; reverse?: boolean; ownerId?: number | null }
  /**
   * A reverse address (reply through the alias, issue 19): mail from one of the `owners`
   * accounts goes on to `correspondent` from `alias`; from anyone else it is refused.
   */
  | { kind: "reverse"; address: string; token: string; alias: string; correspondent: string; owners: number[] }
  /** A disabled alias: refused at RCPT, or accepted and dropped when `drop` (aliases.onDisabled). */
  | { kind: "disabled"; address: string; alias: string; drop: boolean }
  | { kind: "unknown"; address: string }
  | { kind: "remote"; address: string }
  /** One of our SRS addresses, verified: mail for it goes to `target`. */
  | { kind: "srs"; address: string; target: string }
  /** Looks like one of our SRS addresses but the hash or age is wrong. */
  | { kind: "forged"; address: string };

export interface DirectoryOptions {
  /** Plus-addressing separator (`user+tag@` reaches `user@`); empty turns it off. */
  separator?: string;
  /** SRS for forwarded mail; its domain receives the bounces. */
  srs?: Srs;
  srsDomain?: string;
  /** What a disabled alias does with mail: refuse it at RCPT (`550 5.1.1`, the default) or drop it. */
  onDisabled?: "refuse" | "drop";
  /** This server's name: its domain, or the nearest served parent of it, is the primary domain. */
  hostname?: string;
  /**
   * Where `<postmaster>` (RFC 5321 §4.5.1) and postmaster@/abuse@ (RFC 2142 §4) of every served
   * domain go when that domain has no account or alias of the name (config `postmaster`, `abuse`).
   * Default: postmaster@<primary domain>; abuse@ goes where postmaster@ goes.
   */
  postmaster?: string;
  abuse?: string;
}

/** The role mailboxes every served domain has (RFC 2142 §4, RFC 5321 §4.5.1). */
const ROLES = ["postmaster", "abuse"] as const;
type Role = (typeof ROLES)[number];
/** A role address may point at another one (abuse@ → postmaster@), no further. */
const MAX_ROLE_HOPS = 2;

/**
 * How long a lookup is reused. An SMTP transaction resolves each recipient at RCPT and again
 * when it routes the accepted message, and a busy MX sees the same few addresses over and over.
 * Changes made by this process are seen at once (the store's directory version); those made by
 * another process sharing the database (`postern user add`, a second server) within this time.
 */
const CACHE_MS = 1000;
const CACHE_ENTRIES = 10_000;

export class Directory {
  #cache = new Map<string, { result: Promise<Recipient>; until: number; version: number }>();
  /** Reverse addresses need the SRS secret: without one, no domain has them. */
  readonly reverse: ReverseAddresses | undefined;

  constructor(
    private readonly store: Store,
    private readonly options: DirectoryOptions = {},
  ) {
    this.reverse = options.srs && new ReverseAddresses(options.srs.deriveKey("reverse alias"));
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    return (await this.store.domains.get(domain)) !== undefined;
  }

  /** Resolves one envelope recipient (RFC 5321 §4.1.1.3). */
  resolve(address: string): Promise<Recipient> {
    const now = Date.now();
    const version = this.store.directoryVersion;
    const hit = this.#cache.get(address);
    if (hit && hit.until > now && hit.version === version) return hit.result;
    if (this.#cache.size >= CACHE_ENTRIES) this.#cache.clear();
    const result = this.#lookup(address);
    this.#cache.set(address, { result, until: now + CACHE_MS, version });
    result.catch(() => this.#cache.delete(address));
    return result;
  }

  async #lookup(address: string, hops = 0): Promise<Recipient> {
    // RFC 5321 §4.5.1: "postmaster" without a domain is accepted and delivered.
    if (address.toLowerCase() === "postmaster") {
      return (await this.#role("postmaster", "postmaster", hops)) ?? { kind: "unknown", address: "postmaster" };
    }
    const srsHit = this.#srs(address);
    if (srsHit) return srsHit;
    // SMTP takes local parts past RFC 5321's 64 octets (src/smtp/path.ts): no account or alias
    // has one, but a pattern or catch-all of one of our domains may match it, and it is never
    // "remote" at one of our domains (that would relay it back to ourselves).
    const parsed = parseAddress(address, MAX_LOCAL_PART);
    if (!parsed) return { kind: "remote", address };
    const normalized = `${parsed.local}@${parsed.domain}`;
    const domain = await this.store.domains.get(parsed.domain);
    // RFC 5321 §2.4: only the destination may fold a local part's case; the sender of a bounce
    // coming back through SRS gets it as written (an SRS hash is case-sensitive base64, too).
    if (!domain) return { kind: "remote", address: `${address.slice(0, address.lastIndexOf("@"))}@${parsed.domain}` };
    const token = domain.reverseAliases ? ReverseAddresses.tokenOf(parsed.local) : null;
    if (token) return await this.#reverseAlias(token, normalized, hops);

    const candidates = [parsed.local];
    const separator = this.options.separator ?? "+";
    const cut = separator ? parsed.local.indexOf(separator) : -1;
    if (cut > 0) candidates.push(parsed.local.slice(0, cut));

    for (const local of candidates) {
      const full = `${local}@${parsed.domain}`;
      const account = await this.store.accounts.get(full);
      if (account && !account.disabled) {
        return { kind: "account", address: full, accountId: account.id, quota: account.quota };
      }
      const alias = await this.store.aliases.route(full);
      if (alias) return this.#alias(alias, full, domain.reverseAliases);
    }
    const role = ROLES.find((r) => r === parsed.local);
    const routed = role && (await this.#role(role, normalized, hops));
    if (routed) return routed;
    const patterns = await this.store.aliases.patterns(parsed.domain);
    for (const local of candidates) {
      const pattern = bestPattern(patterns, local);
      if (pattern) return this.#alias(pattern, normalized, domain.reverseAliases);
    }
    const catchAll = await this.store.aliases.route(`@${parsed.domain}`);
    if (catchAll) return this.#alias(catchAll, normalized, domain.reverseAliases);
    return { kind: "unknown", address: normalized };
  }

  #alias(alias: AliasRoute, address: string, reverse: boolean): Recipient {
    if (alias.disabled) {
      return { kind: "disabled", address, alias: alias.address, drop: this.options.onDisabled === "drop" };
    }
    return {
      kind: "alias",
      address,
      targets: alias.targets,
      alias: alias.address,
      reverse: reverse && this.reverse !== undefined,
      ownerId: alias.ownerId,
    };
  }

  /**
   * A reverse address: known, made with our key, and its alias still forwarding. Its owners are
   * the alias's owner and the local accounts it delivers to. Anything else is unknown (550 5.1.1).
   */
  async #reverseAlias(token: string, address: string, hops: number): Promise<Recipient> {
    const mapping = await this.store.aliases.reverse.find(token);
    if (!mapping || !this.reverse?.verify(mapping)) return { kind: "unknown", address };
    const alias = await this.#lookup(mapping.alias, hops + 1);
    if (alias.kind !== "alias") return { kind: "unknown", address };
    const owners = new Set<number>(alias.ownerId ? [alias.ownerId] : []);
    for (const target of alias.targets) {
      const account = await this.store.accounts.get(target);
      if (account && !account.disabled) owners.add(account.id);
    }
    return {
      kind: "reverse",
      address,
      token,
      alias: mapping.alias,
      correspondent: mapping.correspondent,
      owners: [...owners],
    };
  }

  /**
   * One of our SRS addresses, checked before the usual address rules: SRS local parts often pass
   * RFC 5321's 64 octets (§4.5.3.1.1 asks receivers to tolerate more), and the hash is case-sensitive
   * base64, so the local part is passed on as it came.
   */
  #srs(address: string): Recipient | null {
    const { srs, srsDomain } = this.options;
    const at = address.lastIndexOf("@");
    if (!srs || !srsDomain || at <= 0 || !Srs.isSrs(address)) return null;
    if (normalizeDomain(address.slice(at + 1)) !== normalizeDomain(srsDomain)) return null;
    const normalized = `${address.slice(0, at).toLowerCase()}@${srsDomain.toLowerCase()}`;
    const reversed = srs.reverse(address);
    return reversed.ok
      ? { kind: "srs", address: normalized, target: reversed.address }
      : { kind: "forged", address: normalized };
  }

  /**
   * A role address of a served domain without its own account or alias: an alias of the
   * configured target, or null when the target is not deliverable either (then it stays unknown).
   */
  async #role(role: Role, address: string, hops: number): Promise<Recipient | null> {
    if (hops >= MAX_ROLE_HOPS) return null;
    const target = (role === "abuse" ? this.options.abuse : undefined) ?? this.options.postmaster ??
      (await this.#defaultPostmaster());
    if (!target || target.toLowerCase() === address) return null;
    const resolved = await this.#lookup(target, hops + 1);
    if (resolved.kind === "unknown" || resolved.kind === "forged" || resolved.kind === "disabled") return null;
    return { kind: "alias", address, targets: [target] };
  }

  /** postmaster@ the primary domain: the host name's own or nearest parent domain, else the first one added. */
  async #defaultPostmaster(): Promise<string | null> {
    const domains = await this.store.domains.list();
    if (domains.length === 0) return null;
    const names = new Set(domains.map((d) => d.name));
    const labels = (this.options.hostname ?? "").toLowerCase().split(".");
    for (let i = 0; i < labels.length; i++) {
      const candidate = labels.slice(i).join(".");
      if (names.has(candidate)) return `postmaster@${candidate}`;
    }
    const first = domains.reduce((a, b) => (b.id < a.id ? b : a));
    return `postmaster@${first.name}`;
  }
}
