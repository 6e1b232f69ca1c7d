/**
 * LIST and LSUB (RFC 9051 §6.3.9, LIST-EXTENDED RFC 5258, SPECIAL-USE RFC 6154, CHILDREN): pattern
 * matching with "%" and "*", hierarchy with "/", subscriptions as names of their own, and the
 * attributes and CHILDINFO of each name.
 */
import type { MailboxInfo } from "./backend.ts";
import type { ListReturn } from "./commands.ts";
import { mailboxToWire } from "./mailbox-name.ts";
import { imapString } from "./response.ts";

export const DELIMITER = "/";

/** "%" matches anything but the delimiter, "*" anything at all (RFC 9051 §6.3.9). */
export function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/%/g, "[^/]*");
  // INBOX matches case-insensitively (RFC 9051 §5.1).
  return new RegExp(`^${escaped}$`, /^inbox/i.test(pattern) ? "i" : "");
}

const SELECT_OPTIONS = new Set(["SUBSCRIBED", "REMOTE", "RECURSIVEMATCH", "SPECIAL-USE"]);

/**
 * Why a list of selection options is refused with BAD, or null: an unknown option, or
 * RECURSIVEMATCH with nothing (or only REMOTE) to recurse on (RFC 5258 §3).
 */
export function selectOptionsError(options: readonly string[]): string | null {
  const unknown = options.find((o) => !SELECT_OPTIONS.has(o));
  if (unknown) return `Unknown LIST selection option ${unknown}`;
  if (options.includes("RECURSIVEMATCH") && !options.some((o) => o !== "RECURSIVEMATCH" && o !== "REMOTE")) {
    return "RECURSIVEMATCH needs another selection option";
  }
  return null;
}

export interface ListEntry {
  name: string;
  attributes: string[];
  mailbox: MailboxInfo | null;
  /** RFC 5258 §3.5: the selection criteria a descendant not listed here meets ("SUBSCRIBED"). */
  childInfo: string[];
}

/** Every ancestor of a name: "a/b/c" → "a", "a/b". */
function parents(name: string): string[] {
  const parts = name.split(DELIMITER);
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join(DELIMITER));
}

/**
 * The LIST entries for patterns. Without SUBSCRIBED, existing mailboxes and the parents of deeper
 * names (as \NonExistent); with it, subscribed names, \NonExistent when no mailbox has the name
 * (RFC 5258 §3.4), and with RECURSIVEMATCH also names with a subscribed descendant the patterns
 * leave out, with CHILDINFO (RFC 5258 §3.5).
 */
export function listMailboxes(
  all: readonly MailboxInfo[],
  subscribed: ReadonlySet<string>,
  reference: string,
  patterns: readonly string[],
  selectOptions: readonly string[],
  returns: ListReturn,
): ListEntry[] {
  const byName = new Map(all.map((m) => [m.name, m]));
  const hierarchy = new Set(all.map((m) => m.name));
  // Parents that do not exist as mailboxes still appear in the hierarchy.
  for (const m of all) for (const p of parents(m.name)) hierarchy.add(p);
  const subscribedOnly = selectOptions.includes("SUBSCRIBED");
  const specialOnly = selectOptions.includes("SPECIAL-USE");
  const recursive = selectOptions.includes("RECURSIVEMATCH");
  const regexps = patterns.map((p) => patternToRegExp(reference + p));
  const matchesPattern = (name: string) => regexps.some((r) => r.test(name));
  const special = (name: string) => {
    const role = byName.get(name)?.role;
    return role && role !== "inbox" ? role : null;
  };
  const selected = (name: string) =>
    (!subscribedOnly || subscribed.has(name)) && (!specialOnly || special(name) !== null);
  const candidates = new Set(subscribedOnly ? subscribed : hierarchy);
  /** Names with a descendant that meets the SUBSCRIBED criterion but does not match the patterns. */
  const childInfo = new Set<string>();
  if (recursive && subscribedOnly) {
    for (const name of subscribed) {
      if (matchesPattern(name)) continue;
      for (const p of parents(name)) {
        childInfo.add(p);
        candidates.add(p);
      }
    }
  }
  const out: ListEntry[] = [];
  for (const name of [...candidates].sort(compareNames)) {
    if (!matchesPattern(name)) continue;
    const isSelected = selected(name);
    if (!isSelected && !childInfo.has(name)) continue;
    const mailbox = byName.get(name) ?? null;
    const prefix = name + DELIMITER;
    const hasChildren = [...hierarchy].some((n) => n.startsWith(prefix));
    const attributes = [hasChildren ? "\\HasChildren" : "\\HasNoChildren"];
    if (!mailbox) attributes.unshift("\\NonExistent", "\\Noselect");
    const use = special(name);
    if (use) attributes.push(use);
    if ((returns.subscribed || subscribedOnly) && subscribed.has(name)) attributes.push("\\Subscribed");
    out.push({ name, attributes, mailbox, childInfo: childInfo.has(name) ? ["SUBSCRIBED"] : [] });
  }
  return out;
}

/**
 * LSUB (RFC 3501 §6.3.9): subscribed names; with "%", a name whose subscribed child the pattern
 * leaves out is listed as \Noselect, as is a subscribed name without a mailbox.
 */
export function lsubMailboxes(
  all: readonly MailboxInfo[],
  subscribed: ReadonlySet<string>,
  reference: string,
  pattern: string,
): ListEntry[] {
  const returns = { subscribed: false, children: false, specialUse: false, status: null };
  return listMailboxes(all, subscribed, reference, [pattern], ["SUBSCRIBED", "RECURSIVEMATCH"], returns).map((e) => ({
    ...e,
    attributes: subscribed.has(e.name) && e.mailbox ? [] : ["\\Noselect"],
    childInfo: [],
  }));
}

/** INBOX first, then by name. */
function compareNames(a: string, b: string): number {
  if (a === "INBOX") return -1;
  if (b === "INBOX") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function listLine(kind: "LIST" | "LSUB", entry: ListEntry, utf8: boolean): string {
  const extended = entry.childInfo.length ? ` ("CHILDINFO" (${entry.childInfo.map((c) => `"${c}"`).join(" ")}))` : "";
  return `* ${kind} (${entry.attributes.join(" ")}) "${DELIMITER}" ${
    imapString(mailboxToWire(entry.name, utf8), utf8)
  }${extended}\r\n`;
}
