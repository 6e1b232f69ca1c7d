/**
 * Comparators (RFC 4790 §9: i;octet, i;ascii-casemap, i;ascii-numeric) and match types (RFC 5228 §2.7.1 :is,
 * :contains, :matches; RFC 5231 :count and :value; the regex draft's :regex), with the match variables that
 * :matches and :regex capture (RFC 5229 §3.2).
 */

export const COMPARATORS = new Set(["i;octet", "i;ascii-casemap", "i;ascii-numeric"]);
export const RELATIONS = new Set(["gt", "ge", "lt", "le", "eq", "ne"]);

export type MatchType =
  | { kind: "is" | "contains" | "matches" | "regex" }
  | { kind: "count" | "value"; relation: string };

export interface Matcher {
  comparator: string;
  type: MatchType;
}

/** ASCII-only upper-casing (RFC 4790 §9.2): the same length as the input, so capture offsets carry over. */
export const asciiUpper = (s: string) => s.replace(/[a-z]+/g, (m) => m.toUpperCase());

const fold = (comparator: string, s: string) => (comparator === "i;ascii-casemap" ? asciiUpper(s) : s);

/** RFC 4790 §9.1: the number at the start of the string, or null (positive infinity) when it starts otherwise. */
function numericValue(s: string): string | null {
  const m = /^[0-9]+/.exec(s);
  return m ? m[0].replace(/^0+(?=.)/, "") : null;
}

/** Ordering of two values under a comparator: negative, zero or positive. */
export function compare(comparator: string, a: string, b: string): number {
  if (comparator === "i;ascii-numeric") {
    const x = numericValue(a);
    const y = numericValue(b);
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
    return x.length !== y.length ? x.length - y.length : x < y ? -1 : x > y ? 1 : 0;
  }
  const x = fold(comparator, a);
  const y = fold(comparator, b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function relationHolds(relation: string, order: number): boolean {
  switch (relation) {
    case "gt":
      return order > 0;
    case "ge":
      return order >= 0;
    case "lt":
      return order < 0;
    case "le":
      return order <= 0;
    case "eq":
      return order === 0;
    default:
      return order !== 0;
  }
}

/** Whether a comparator supports a match type (RFC 4790 §9.1: i;ascii-numeric has no substring operation). */
export function supports(comparator: string, type: MatchType["kind"]): boolean {
  return comparator !== "i;ascii-numeric" || type === "is" || type === "count" || type === "value";
}

export interface MatchResult {
  matched: boolean;
  /** ${0}..${n} for :matches and :regex, when matched. */
  captures?: string[];
  /** Comparisons made, for the step counter. */
  steps: number;
}

/**
 * Tests values against keys: true when any value matches any key (RFC 5228 §2.7.1); for :count, when the number of
 * values matches any key (RFC 5231 §4.2).
 */
export function matchValues(m: Matcher, values: readonly string[], keys: readonly string[]): MatchResult {
  let steps = 0;
  if (m.type.kind === "count") {
    const count = String(values.length);
    for (const key of keys) {
      steps++;
      if (relationHolds(m.type.relation, compare(m.comparator, count, key))) return { matched: true, steps };
    }
    return { matched: false, steps };
  }
  for (const value of values) {
    for (const key of keys) {
      steps++;
      const r = matchOne(m, value, key);
      if (r) return { matched: true, captures: r === true ? undefined : r, steps };
    }
  }
  return { matched: false, steps };
}

function matchOne(m: Matcher, value: string, key: string): boolean | string[] {
  const c = m.comparator;
  switch (m.type.kind) {
    case "is":
      return compare(c, value, key) === 0;
    case "contains":
      return fold(c, value).includes(fold(c, key));
    case "value":
      return relationHolds(m.type.relation, compare(c, value, key));
    case "matches":
      return wildcard(c, value, key);
    case "regex":
      return regex(c, value, key);
    default:
      return false;
  }
}

/**
 * RFC 5228 §2.7.1: "*" matches any run, "?" one character, "\\" quotes the next one. Matched in O(value × pattern)
 * with the classic two-pointer scan (no backtracking regex, so no catastrophic cases); each "*" takes the shortest
 * run that lets the rest match, as RFC 5229 §3.2's examples expect. Captures keep the value's case.
 */
function wildcard(comparator: string, value: string, key: string): false | string[] {
  type Token = { kind: "char"; ch: string } | { kind: "one" } | { kind: "star" };
  const tokens: Token[] = [];
  const pattern = Array.from(fold(comparator, key));
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === "\\" && i + 1 < pattern.length) tokens.push({ kind: "char", ch: pattern[++i]! });
    else if (ch === "*") tokens.push({ kind: "star" });
    else if (ch === "?") tokens.push({ kind: "one" });
    else tokens.push({ kind: "char", ch });
  }
  const original = Array.from(value);
  const chars = Array.from(fold(comparator, value));
  const n = chars.length;
  const m = tokens.length;
  /** Where in the value each token starts matching. */
  const at = new Array<number>(m + 1).fill(0);
  let i = 0;
  let j = 0;
  let star = -1;
  let resume = 0;
  while (i < n) {
    const t = tokens[j];
    if (t && (t.kind === "one" || (t.kind === "char" && t.ch === chars[i]))) {
      at[j++] = i++;
    } else if (t && t.kind === "star") {
      star = j;
      at[j++] = i;
      resume = i;
    } else if (star !== -1) {
      // Give the last "*" one more character and match the rest again from there.
      j = star + 1;
      i = ++resume;
    } else return false;
  }
  while (j < m && tokens[j]!.kind === "star") at[j++] = n;
  if (j !== m) return false;
  at[m] = n;
  const captures = [value];
  for (let k = 0; k < m; k++) {
    const t = tokens[k]!;
    if (t.kind === "one") captures.push(original[at[k]!]!);
    else if (t.kind === "star") captures.push(original.slice(at[k]!, at[k + 1]!).join(""));
  }
  return captures;
}

/**
 * JavaScript regular expressions backtrack: a quantified group that itself holds a quantifier ("(a+)+") or a back
 * reference can take exponential time on a crafted header. Such patterns are refused, and values are cut at
 * REGEX_INPUT_MAX characters.
 */
export function unsafeRegex(pattern: string): boolean {
  return /\([^)]*[*+?}][^)]*\)\s*[*+?{]/.test(pattern) || /\\[1-9]/.test(pattern);
}
const REGEX_INPUT_MAX = 65_536;

function regex(comparator: string, value: string, key: string): false | string[] {
  if (unsafeRegex(key)) return false;
  if (value.length > REGEX_INPUT_MAX) value = value.slice(0, REGEX_INPUT_MAX);
  let re: RegExp;
  try {
    re = new RegExp(key, comparator === "i;ascii-casemap" ? "iu" : "u");
  } catch {
    return false;
  }
  const m = re.exec(value);
  return m ? m.map((s) => s ?? "") : false;
}

/** RFC 5229 §4: "*", "?" and "\" quoted for :matches. */
export const quoteWildcard = (s: string) => s.replace(/[*?\\]/g, (c) => `\\${c}`);
export const quoteRegex = (s: string) => s.replace(/[\\^$.*+?()[\]{}|]/g, (c) => `\\${c}`);
