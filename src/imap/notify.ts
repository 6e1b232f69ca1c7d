/**
 * NOTIFY (RFC 5465): which mailboxes and events a client asked to hear of, and what changed in the mailboxes
 * other than the selected one since the session last looked — STATUS for message events (§5.1-5.3), LIST for
 * MailboxName (§5.4). The selected mailbox's events are the view's usual responses, sent by the server loop
 * whenever the store reports a change (`server.ts`).
 */
import type { MailboxInfo } from "./backend.ts";
import type { FetchItem } from "./commands.ts";
import { condstore, type HandlerContext, utf8 } from "./context.ts";
import { mailboxToWire } from "./mailbox-name.ts";
import { imapString } from "./response.ts";

export type NotifyEvent = "MessageNew" | "MessageExpunge" | "FlagChange" | "MailboxName";

/** The events Postern can report (listed in NO [BADEVENT ...], RFC 5465 §3.1). */
export const SUPPORTED_EVENTS: readonly NotifyEvent[] = ["MessageNew", "MessageExpunge", "FlagChange", "MailboxName"];

export type MailboxFilter =
  | { kind: "selected" | "selected-delayed" | "inboxes" | "personal" | "subscribed" }
  | { kind: "subtree" | "mailboxes"; names: string[] };

export interface EventGroup {
  filter: MailboxFilter;
  /** Event names as the client wrote them, case-folded to the RFC's spelling when known. */
  events: string[];
  /** MessageNew's fetch-att, for the selected mailbox (RFC 5465 §5.2). */
  fetch: FetchItem[] | null;
}

/** NOTIFY SET [STATUS] groups; null for NOTIFY NONE. */
export interface NotifySet {
  status: boolean;
  groups: EventGroup[];
}

/**
 * What NOTIFY SET asks that is not allowed (RFC 5465 §5, §6.1): BAD for a malformed request, NO [BADEVENT] for an
 * event Postern does not report; null when it can be done.
 */
export function notifyRefusal(set: NotifySet): { bad: string } | { badEvent: true } | null {
  const selected = set.groups.filter((g) => g.filter.kind === "selected" || g.filter.kind === "selected-delayed");
  if (selected.length > 1) return { bad: "SELECTED or SELECTED-DELAYED may be given once" };
  for (const group of set.groups) {
    const has = (e: string) => group.events.includes(e);
    // §5: MessageNew and MessageExpunge go together; FlagChange and AnnotationChange need both.
    if (has("MessageNew") !== has("MessageExpunge")) return { bad: "MessageNew and MessageExpunge go together" };
    if ((has("FlagChange") || has("AnnotationChange")) && !has("MessageNew")) {
      return { bad: "FlagChange needs MessageNew and MessageExpunge" };
    }
    const isSelected = group.filter.kind === "selected" || group.filter.kind === "selected-delayed";
    if (isSelected && group.events.some((e) => MAILBOX_EVENTS.has(e))) {
      return { bad: "Mailbox events cannot be asked of the selected mailbox" };
    }
    if (group.fetch && !isSelected) return { bad: "Fetch attributes are for the selected mailbox only" };
  }
  const supported = new Set<string>(SUPPORTED_EVENTS);
  if (set.groups.some((g) => g.events.some((e) => !supported.has(e)))) return { badEvent: true };
  return null;
}

const MAILBOX_EVENTS = new Set(["MailboxName", "SubscriptionChange", "MailboxMetadataChange", "ServerMetadataChange"]);

/** What the session last told the client about a mailbox. */
interface Seen {
  name: string;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  unseen: number;
}

/** A session's NOTIFY SET: the request and what it last reported of the other mailboxes. */
export class NotifyWatch {
  readonly set: NotifySet;
  #seen = new Map<number, Seen>();

  constructor(set: NotifySet) {
    this.set = set;
  }

  /** The SELECTED or SELECTED-DELAYED group, if any. */
  get selected(): EventGroup | null {
    return this.set.groups.find((g) => g.filter.kind === "selected" || g.filter.kind === "selected-delayed") ?? null;
  }

  /**
   * Takes the current state of the account's mailboxes as known to the client (at NOTIFY SET, and after this
   * session's own commands, whose effects it is not told of again, §5). With `status`, the STATUS responses
   * for the watched mailboxes (RFC 5465 §3.1, the STATUS indicator).
   */
  async look(ctx: HandlerContext, status: boolean): Promise<string[]> {
    const out: string[] = [];
    const mailboxes = await ctx.backend.mailboxes(ctx.account);
    const subscribed = await this.#subscriptions(ctx);
    const next = new Map<number, Seen>();
    for (const mailbox of mailboxes) {
      const events = this.#events(mailbox, subscribed);
      const known = this.#seen.get(mailbox.id);
      const counts = events.has("MessageNew") &&
          (!known || known.highestModseq !== mailbox.highestModseq || status)
        ? await ctx.backend.status(mailbox.id)
        : null;
      next.set(mailbox.id, seenOf(mailbox, counts, known));
      if (status && counts && ctx.view?.mailbox.id !== mailbox.id) {
        const items = [
          `MESSAGES ${counts.messages}`,
          `UIDNEXT ${mailbox.uidNext}`,
          `UIDVALIDITY ${mailbox.uidValidity}`,
        ];
        if (events.has("FlagChange")) items.push(`UNSEEN ${counts.unseen}`);
        if (condstore(ctx)) items.push(`HIGHESTMODSEQ ${mailbox.highestModseq}`);
        out.push(statusLine(ctx, mailbox.name, items));
      }
    }
    this.#seen = next;
    return out;
  }

  /** What changed in the watched mailboxes since the last look, as STATUS and LIST responses; then looks again. */
  async changes(ctx: HandlerContext): Promise<string[]> {
    const out: string[] = [];
    const mailboxes = await ctx.backend.mailboxes(ctx.account);
    const subscribed = await this.#subscriptions(ctx);
    const next = new Map<number, Seen>();
    const selectedId = this.selected ? ctx.view?.mailbox.id : undefined;
    for (const mailbox of mailboxes) {
      const known = this.#seen.get(mailbox.id);
      const events = this.#events(mailbox, subscribed);
      if (known && known.name !== mailbox.name) {
        // §5.4: a rename is one LIST with the old name, if either name is watched.
        const before = this.#events({ ...mailbox, name: known.name }, subscribed);
        if (events.has("MailboxName") || before.has("MailboxName")) {
          out.push(listLine(ctx, mailbox.name, "", ` ("OLDNAME" (${wireName(ctx, known.name)}))`));
        }
      } else if (!known && events.has("MailboxName")) out.push(listLine(ctx, mailbox.name, "", ""));
      const changed = !known || known.highestModseq !== mailbox.highestModseq ||
        known.uidValidity !== mailbox.uidValidity;
      const counts = events.has("MessageNew") && changed ? await ctx.backend.status(mailbox.id) : null;
      next.set(mailbox.id, seenOf(mailbox, counts, known));
      if (!known || !counts || mailbox.id === selectedId || ctx.view?.mailbox.id === mailbox.id) continue;
      const items: string[] = [];
      const grew = counts.messages !== known.messages || mailbox.uidNext !== known.uidNext ||
        mailbox.uidValidity !== known.uidValidity;
      // §5.2, §5.3: MESSAGES and UIDNEXT for new and expunged messages; §5.1: UNSEEN for flag changes.
      if (grew) items.push(`MESSAGES ${counts.messages}`, `UIDNEXT ${mailbox.uidNext}`);
      if (mailbox.uidValidity !== known.uidValidity) items.push(`UIDVALIDITY ${mailbox.uidValidity}`);
      if (events.has("FlagChange") && counts.unseen !== known.unseen) items.push(`UNSEEN ${counts.unseen}`);
      if (condstore(ctx) && (items.length || events.has("FlagChange"))) {
        items.push(`HIGHESTMODSEQ ${mailbox.highestModseq}`);
      }
      if (items.length) out.push(statusLine(ctx, mailbox.name, items));
    }
    for (const [id, known] of this.#seen) {
      if (next.has(id)) continue;
      // §5.4: a deleted mailbox is listed \NonExistent.
      const events = this.#events({ id, name: known.name, role: null } as MailboxInfo, subscribed);
      if (events.has("MailboxName")) out.push(listLine(ctx, known.name, "\\NonExistent", ""));
    }
    this.#seen = next;
    return out;
  }

  /** The events the groups other than SELECTED ask of a mailbox. */
  #events(mailbox: Pick<MailboxInfo, "name" | "role">, subscribed: ReadonlySet<string> | null): Set<string> {
    const events = new Set<string>();
    for (const group of this.set.groups) {
      if (matches(group.filter, mailbox, subscribed)) { for (const e of group.events) events.add(e); }
    }
    return events;
  }

  async #subscriptions(ctx: HandlerContext): Promise<Set<string> | null> {
    if (!this.set.groups.some((g) => g.filter.kind === "subscribed")) return null;
    return new Set(await ctx.backend.subscriptions(ctx.account));
  }
}

/** RFC 5465 §6: which mailboxes a filter names. INBOXES: where mail is delivered, here INBOX. */
function matches(
  filter: MailboxFilter,
  mailbox: Pick<MailboxInfo, "name" | "role">,
  subscribed: ReadonlySet<string> | null,
): boolean {
  switch (filter.kind) {
    case "selected":
    case "selected-delayed":
      return false;
    case "inboxes":
      return mailbox.role === "inbox" || mailbox.name === "INBOX";
    case "personal":
      return true;
    case "subscribed":
      return subscribed?.has(mailbox.name) ?? false;
    case "subtree":
      return filter.names.some((n) => mailbox.name === n || mailbox.name.startsWith(`${n}/`));
    case "mailboxes":
      return filter.names.includes(mailbox.name);
  }
}

function seenOf(
  mailbox: MailboxInfo,
  counts: { messages: number; unseen: number } | null,
  known: Seen | undefined,
): Seen {
  return {
    name: mailbox.name,
    uidValidity: mailbox.uidValidity,
    uidNext: mailbox.uidNext,
    highestModseq: mailbox.highestModseq,
    messages: counts?.messages ?? known?.messages ?? 0,
    unseen: counts?.unseen ?? known?.unseen ?? 0,
  };
}

function wireName(ctx: HandlerContext, name: string): string {
  return imapString(mailboxToWire(name, utf8(ctx)), utf8(ctx));
}

function statusLine(ctx: HandlerContext, name: string, items: string[]): string {
  return `* STATUS ${wireName(ctx, name)} (${items.join(" ")})\r\n`;
}

function listLine(ctx: HandlerContext, name: string, attributes: string, extended: string): string {
  return `* LIST (${attributes}) "/" ${wireName(ctx, name)}${extended}\r\n`;
}
