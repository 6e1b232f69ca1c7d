/**
 * Pattern aliases: a local part with `*` wildcards (`shop-*@example.com`) stands for every local
 * part it matches at its domain. Precedence, as Forward Email documents it: an exact alias (or
 * account) first, then patterns, then the catch-all `@domain`. Among patterns the most specific
 * wins — the most literal characters, then the fewest wildcards, then the first in sort order —
 * so the answer never depends on the order they were added in.
 */

/** Whether an alias address (`local@domain`) is a pattern rather than an exact address. */
export function isAliasPattern(address: string): boolean {
  const at = address.lastIndexOf("@");
  return at > 0 && address.slice(0, at).includes("*");
}

/** Matches a lower-cased local part against a pattern's local part (`*` is any run, even empty). */
export function matchesPattern(pattern: string, local: string): boolean {
  const source = pattern.split("*").map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join(".*");
  return new RegExp(`^${source}$`, "s").test(local);
}

function specificity(pattern: string): [number, number] {
  const wildcards = pattern.split("*").length - 1;
  return [pattern.length - wildcards, wildcards];
}

/** The pattern that `local` falls under, by the precedence above; undefined when none does. */
export function bestPattern<T extends { address: string }>(patterns: readonly T[], local: string): T | undefined {
  const local_ = local.toLowerCase();
  const matching = patterns.filter((p) => matchesPattern(p.address.slice(0, p.address.lastIndexOf("@")), local_));
  return matching.sort((a, b) => {
    const [la, wa] = specificity(a.address);
    const [lb, wb] = specificity(b.address);
    return lb - la || wa - wb || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0);
  })[0];
}
