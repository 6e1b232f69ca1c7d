/**
 * The longer arguments of extensions, for `parser.ts`: ESEARCH/ESORT/CONTEXT return options (RFC 4731, RFC 5267),
 * CATENATE parts (RFC 4469) and NOTIFY SET event groups (RFC 5465).
 */
import type { CatenatePart, PartialRange } from "./commands.ts";
import type { Cursor } from "./cursor.ts";
import { parseFetchItems } from "./fetch-items.ts";
import type { EventGroup, MailboxFilter, NotifySet } from "./notify.ts";

/**
 * `RETURN (options) ` before the search key, if present (ESEARCH RFC 4731, ESORT and CONTEXT RFC 5267):
 * option names upper-cased; PARTIAL's range apart (RFC 5267 §4.4). At most one of PARTIAL and ALL.
 */
export function searchReturn(c: Cursor): { returnOptions: string[] | null; partial: PartialRange | null } {
  if (!c.peekWord("RETURN ")) return { returnOptions: null, partial: null };
  c.expect("RETURN");
  c.sp();
  let partial: PartialRange | null = null;
  const returnOptions = c.list(() => {
    const option = c.atom().toUpperCase();
    if (option === "PARTIAL") {
      c.sp();
      const a = c.nzNumber();
      c.expect(":");
      const b = c.nzNumber();
      partial = { first: Math.min(a, b), last: Math.max(a, b) };
    }
    return option;
  }, true);
  if (returnOptions.filter((o) => o === "PARTIAL" || o === "ALL").length > 1) {
    c.fail("at most one of PARTIAL and ALL (RFC 5267 §4.4)");
  }
  c.sp();
  return { returnOptions, partial };
}

const NOTIFY_EVENTS = [
  "MessageNew",
  "MessageExpunge",
  "FlagChange",
  "AnnotationChange",
  "MailboxName",
  "SubscriptionChange",
  "MailboxMetadataChange",
  "ServerMetadataChange",
];

/** RFC 5465 §8: [SP "STATUS"] 1*(SP event-group), event-group = "(" filter-mailboxes SP events ")". */
export function parseNotifySet(c: Cursor, mailbox: () => string): NotifySet {
  const status = c.accept(" STATUS");
  const groups: EventGroup[] = [];
  do {
    c.sp();
    c.expect("(");
    const kind = c.atom().toLowerCase();
    let filter: MailboxFilter;
    if (kind === "subtree" || kind === "mailboxes") {
      c.sp();
      filter = { kind, names: c.peek() === "(" ? c.list(mailbox) : [mailbox()] };
    } else if (["selected", "selected-delayed", "inboxes", "personal", "subscribed"].includes(kind)) {
      filter = { kind: kind as "selected" };
    } else return c.fail(`a mailbox filter (not ${kind})`);
    c.sp();
    let fetch: EventGroup["fetch"] = null;
    const events = c.accept("NONE") ? [] : c.list(() => {
      const atom = c.atom();
      const event = NOTIFY_EVENTS.find((e) => e.toLowerCase() === atom.toLowerCase()) ?? atom;
      if (event === "MessageNew" && c.peek(2) === " (") {
        c.sp();
        // §5.2: the attributes are fetched without setting \Seen.
        fetch = parseFetchItems(c).map((item) => ("peek" in item ? { ...item, peek: true } : item));
      }
      return event;
    });
    c.expect(")");
    groups.push({ filter, events, fetch });
  } while (c.peek() === " ");
  return { status, groups };
}

/** RFC 4469 §5: "(" cat-part *(SP cat-part) ")", cat-part = "TEXT" SP literal / "URL" SP astring. */
export function catenateParts(c: Cursor): CatenatePart[] {
  return c.list((): CatenatePart => {
    const kind = c.atom().toUpperCase();
    c.sp();
    if (kind === "TEXT") return { kind: "text", bytes: c.literalBytes() };
    if (kind === "URL") return { kind: "url", url: c.astring() };
    return c.fail(`TEXT or URL (not ${kind})`);
  });
}
