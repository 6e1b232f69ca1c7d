/**
 * LIST and LSUB (RFC 9051 §6.3.9, LIST-EXTENDED RFC 5258, SPECIAL-USE RFC 6154, CHILDREN): pattern
 * matching with "%" and "*", hierarchy with "/", and the attributes of each mailbox.
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

export interface ListEntry {
  name: string;
  attributes: string[];
  mailbox: MailboxInfo | null;
}

/** The LIST entries for patterns, with virtual parents of deeper names as \NonExistent. */
export function listMailboxes(
  all: readonly MailboxInfo[],
  reference: string,
  patterns: readonly string[],
  selectOptions: readonly string[],
  returns: ListReturn,
): ListEntry[] {
  const byName = new Map(all.map((m) => [m.name, m]));
  const names = new Set(all.map((m) => m.name));
  // Parents that do not exist as mailboxes still appear in the hierarchy.
  for (const m of all) {
    const parts = m.name.split(DELIMITER);
    for (let i = 1; i < parts.length; i++) names.add(parts.slice(0, i).join(DELIMITER));
  }
  const subscribedOnly = selectOptions.includes("SUBSCRIBED");
  const specialOnly = selectOptions.includes("SPECIAL-USE");
  const regexps = patterns.map((p) => patternToRegExp(reference + p));
  const out: ListEntry[] = [];
  for (const name of [...names].sort(compareNames)) {
    if (!regexps.some((r) => r.test(name))) continue;
    const mailbox = byName.get(name) ?? null;
    if (subscribedOnly && !mailbox?.subscribed) continue;
    const special = mailbox?.role && mailbox.role !== "inbox" ? mailbox.role : null;
    if (specialOnly && !special) continue;
    const hasChildren = [...names].some((n) => n.startsWith(name + DELIMITER));
    const attributes = [hasChildren ? "\\HasChildren" : "\\HasNoChildren"];
    if (!mailbox) attributes.unshift("\\NonExistent", "\\Noselect");
    if (special) attributes.push(special);
    if ((returns.subscribed || subscribedOnly) && mailbox?.subscribed) attributes.push("\\Subscribed");
    out.push({ name, attributes, mailbox });
  }
  return out;
}

/** INBOX first, then by name. */
function compareNames(a: string, b: string): number {
  if (a === "INBOX") return -1;
  if (b === "INBOX") return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function listLine(kind: "LIST" | "LSUB", entry: ListEntry, utf8: boolean): string {
  return `* ${kind} (${entry.attributes.join(" ")}) "${DELIMITER}" ${
    imapString(mailboxToWire(entry.name, utf8), utf8)
  }\r\n`;
}
