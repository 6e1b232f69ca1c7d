/**
 * RFC 5229 variables: "${name}" expansion (§3), match variables ${0}..${9} (§3.2) and the `set` modifiers (§4).
 */
import { quoteRegex, quoteWildcard } from "./match.ts";

/** Where variables live: lookups by lower-cased name (RFC 5229 §3: names are case-insensitive). */
export interface VariableStore {
  get(name: string): string | undefined;
  set(name: string, value: string): void;
  /** ${0}..${9} from the last successful :matches or :regex. */
  matches: string[];
}

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*|[0-9]+)\}/g;

/** Replaces each reference; unknown names and match variables expand to "" and malformed ones stay as written. */
export function expand(s: string, vars: VariableStore): string {
  if (!s.includes("${")) return s;
  return s.replace(REFERENCE, (_whole, name: string) => {
    if (/^[0-9]/.test(name)) return vars.matches[Number(name)] ?? "";
    return vars.get(name.toLowerCase()) ?? "";
  });
}

/** RFC 5229 §4.1: modifiers apply from the highest precedence (40: case) to the lowest (10: :length). */
const ORDER = ["lower", "upper", "lowerfirst", "upperfirst", "quotewildcard", "quoteregex", "length"];

export function applyModifiers(value: string, modifiers: readonly string[]): string {
  let s = value;
  for (const m of ORDER) {
    if (!modifiers.includes(m)) continue;
    if (m === "lower") s = s.toLowerCase();
    else if (m === "upper") s = s.toUpperCase();
    else if (m === "lowerfirst") s = s.charAt(0).toLowerCase() + s.slice(1);
    else if (m === "upperfirst") s = s.charAt(0).toUpperCase() + s.slice(1);
    else if (m === "quotewildcard") s = quoteWildcard(s);
    else if (m === "quoteregex") s = quoteRegex(s);
    else s = String(Array.from(s).length);
  }
  return s;
}

/** Truncates to at most `max` characters without splitting a surrogate pair. */
export function truncate(s: string, max: number): string {
  if (s.length <= max) return s;
  const cut = s.slice(0, max);
  return /[\ud800-\udbff]$/.test(cut) ? cut.slice(0, -1) : cut;
}
