/**
 * What a command handler works with: the backend, the logged-in account, the selected
 * mailbox's view, the enabled extensions, and the untagged output collected so far.
 */
import type { ImapAccount, ImapBackend, MailboxInfo } from "./backend.ts";
import type { NotifyWatch } from "./notify.ts";
import { contextUpdates, removedByExpunge } from "./search-context.ts";
import type { MailboxView } from "./view.ts";

/** The tagged completion of a command (RFC 9051 §7.1). */
export interface Completion {
  status: "OK" | "NO" | "BAD";
  /** Response code without brackets, e.g. "APPENDUID 38505 3955". */
  code?: string;
  text: string;
}

export interface HandlerContext {
  backend: ImapBackend;
  account: ImapAccount;
  view: MailboxView | null;
  /** ENABLEd capabilities: CONDSTORE, QRESYNC, UTF8=ACCEPT (RFC 5161). */
  enabled: Set<string>;
  /** The tag of the command being answered (ESEARCH echoes it). */
  currentTag: string;
  /** Untagged responses and literals to send before the completion. */
  out: Array<string | Uint8Array>;
  /** NOTIFY SET in force (RFC 5465), null before it and after NOTIFY NONE. */
  notify: NotifyWatch | null;
  /** The largest message APPEND may store (a CATENATE result included, RFC 4469 §5 TOOBIG). */
  maxMessageSize: number;
}

export const ok = (text: string, code?: string): Completion => ({ status: "OK", text, ...(code ? { code } : {}) });
export const no = (text: string, code?: string): Completion => ({ status: "NO", text, ...(code ? { code } : {}) });
export const bad = (text: string): Completion => ({ status: "BAD", text });

export function utf8(ctx: HandlerContext): boolean {
  return ctx.enabled.has("UTF8=ACCEPT");
}

export function condstore(ctx: HandlerContext): boolean {
  return ctx.enabled.has("CONDSTORE") || ctx.enabled.has("QRESYNC");
}

/**
 * A CONDSTORE enabling command (RFC 7162 §3.1: SELECT/EXAMINE (CONDSTORE), STATUS HIGHESTMODSEQ,
 * FETCH or SEARCH with MODSEQ, CHANGEDSINCE, UNCHANGEDSINCE). From then on untagged FETCH carries
 * MODSEQ; the first one while a mailbox is selected reports its HIGHESTMODSEQ (RFC 7162 §3.1.2.1).
 */
export function enableCondstore(ctx: HandlerContext): void {
  if (condstore(ctx)) return;
  ctx.enabled.add("CONDSTORE");
  if (ctx.view) ctx.out.push(`* OK [HIGHESTMODSEQ ${ctx.view.highestModseq}] Highest\r\n`);
}

/** The mailbox with this name, or null (names compare exactly; INBOX is normalised by the parser). */
export async function findMailbox(ctx: HandlerContext, name: string): Promise<MailboxInfo | null> {
  return (await ctx.backend.mailboxes(ctx.account)).find((m) => m.name === name) ?? null;
}

/** Brings the selected view up to date and queues the untagged responses. */
export async function refresh(ctx: HandlerContext, allowExpunge: boolean, flags = true): Promise<void> {
  const view = ctx.view;
  if (!view) return;
  const changes = await ctx.backend.changesSince(view.mailbox.id, view.highestModseq);
  const recent = changes ? await claimRecent(ctx, view, changes.mailbox) : undefined;
  const contexts = view.contexts.size > 0;
  // RFC 5267 §4.3.4: results leaving by expunge are removed before the EXPUNGE, while their numbers hold.
  if (contexts && allowExpunge) {
    const gone = new Set([...view.pendingVanished, ...(changes?.vanished ?? [])]);
    if (gone.size) ctx.out.push(...removedByExpunge(view, gone));
  }
  ctx.out.push(
    ...view.update(changes, {
      allowExpunge,
      qresync: ctx.enabled.has("QRESYNC"),
      condstore: condstore(ctx),
      recent,
      flags,
    }),
  );
  // §4.3.3: additions after EXISTS, so new message numbers are valid.
  if (contexts && view.takeStale()) ctx.out.push(...(await contextUpdates(ctx)));
}

/**
 * The messages no IMAP4rev1 session has been shown as \Recent yet become recent in this one
 * (RFC 3501 §2.3.2: exactly one session sees a new message as recent). EXAMINE shows them without
 * taking them from the next SELECT. Writes only when there is something to claim.
 */
export async function claimRecent(
  ctx: HandlerContext,
  view: MailboxView,
  mailbox: MailboxInfo,
): Promise<{ after: number; upTo: number } | undefined> {
  const last = mailbox.uidNext - 1;
  if (!view.showRecent || last <= Math.max(mailbox.recentUid, view.recentClaimed)) return undefined;
  if (view.readOnly) return { after: Math.max(mailbox.recentUid, view.recentClaimed), upTo: last };
  return await ctx.backend.claimRecent(mailbox.id);
}
