/**
 * Reverse aliases at delivery (issue 19). Copies for accounts reached through an alias of a
 * domain with reverse aliases get a Reply-To naming a reverse address per correspondent (the
 * mapping is stored first); mail to reverse addresses becomes one message per alias that leaves
 * from the alias, for the correspondents — only when the sender is one of the alias's owners.
 */
import { asAliasReply, correspondentsOf, withReverseReplyTo } from "../forward/reverse-headers.ts";
import type { ReverseAddresses } from "../forward/reverse-alias.ts";
import { type MessageSummary, summarize } from "../mime/summary.ts";
import type { NewQueueEntry } from "../store/queue.ts";
import type { Store } from "../store/store.ts";
import type { AliasReplyRoute, Routing } from "./route.ts";

/** Each alias's variant of the message for its owners' mailboxes, by alias address. */
export async function reverseReplyToCopies(
  store: Store,
  reverse: ReverseAddresses,
  local: Routing["local"],
  raw: Uint8Array,
  sender: string,
): Promise<Map<string, { raw: Uint8Array; summary: MessageSummary }>> {
  const copies = new Map<string, { raw: Uint8Array; summary: MessageSummary }>();
  const aliases = [...new Set(local.flatMap((l) => (l.via ? [l.via] : [])))];
  if (aliases.length === 0) return copies;
  const correspondents = correspondentsOf(raw, sender);
  if (correspondents.length === 0) return copies;
  for (const alias of aliases) {
    const named = correspondents.map((correspondent) => ({
      correspondent,
      token: reverse.token(alias, correspondent.address),
      address: reverse.address(alias, correspondent.address),
    }));
    for (const { token, correspondent } of named) {
      await store.aliases.reverse.remember({ token, alias, correspondent: correspondent.address });
    }
    const copy = withReverseReplyTo(raw, named);
    copies.set(alias, { raw: copy, summary: await summarize(copy) });
  }
  return copies;
}

export type AliasReplies =
  | { ok: true; entries: Array<NewQueueEntry & { raw: Uint8Array }>; tokens: string[] }
  /** The sender may not write to this reverse address. */
  | { ok: false; alias: string };

/** One queue entry per alias written through, from the alias, with the owner's traces removed. */
export function aliasReplies(
  replies: readonly AliasReplyRoute[],
  message: { raw: Uint8Array; sender: string; accountId?: number; authenticatedAs?: string },
  queued: Omit<NewQueueEntry, "sender" | "recipients">,
): AliasReplies {
  const refused = replies.find((r) => message.accountId === undefined || !r.owners.includes(message.accountId));
  if (refused) return { ok: false, alias: refused.alias };
  const byAlias = new Map<string, AliasReplyRoute[]>();
  for (const r of replies) byAlias.set(r.alias, [...(byAlias.get(r.alias) ?? []), r]);
  const entries = [...byAlias].map(([alias, routes]) => ({
    ...queued,
    sender: alias,
    recipients: routes.map((r) => ({ ...r.rcpt, address: r.correspondent })),
    raw: asAliasReply(message.raw, {
      alias,
      owner: [message.authenticatedAs ?? "", message.sender],
      correspondents: new Map(routes.map((r) => [r.rcpt.address.toLowerCase(), r.correspondent])),
    }),
  }));
  return { ok: true, entries, tokens: replies.map((r) => r.token) };
}
