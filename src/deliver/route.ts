/**
 * Routing: each envelope recipient becomes local accounts (aliases expanded, recursively, without
 * loops) and remote targets (external addresses and webhooks) for the outbound queue.
 */
import { isWebhookUrl } from "../forward/webhook-target.ts";
import type { Directory } from "./directory.ts";
import type { EnvelopeRecipient } from "./deliverer.ts";

/** Aliases of aliases are followed this deep (Postfix's virtual_alias_recursion_limit is 1000; 20 is plenty). */
const MAX_DEPTH = 20;

/** A recipient that is a reverse address: the reply goes on to `correspondent` from `alias`. */
export interface AliasReplyRoute {
  rcpt: EnvelopeRecipient;
  token: string;
  alias: string;
  correspondent: string;
  /** The accounts that may send through it. */
  owners: number[];
}

export interface Routing {
  /**
   * `via` is the alias (as written to) when the account was reached through an alias of a domain
   * with reverse aliases: its copy gets a Reply-To naming reverse addresses at that alias.
   */
  local: { accountId: number; address: string; via?: string }[];
  /** Remote recipients the client named itself: the envelope sender is kept. */
  remote: EnvelopeRecipient[];
  /** Remote targets reached through an alias (or an SRS bounce): forwarded, sender rewritten with SRS. */
  forwarded: EnvelopeRecipient[];
  /** Aliases (by their own address) the message went through, and disabled ones that dropped it: for their counters. */
  aliases: { used: string[]; dropped: string[] };
  /** Recipients that are reverse addresses (issue 19). */
  replies: AliasReplyRoute[];
}

export async function route(directory: Directory, recipients: readonly EnvelopeRecipient[]): Promise<Routing> {
  const local = new Map<number, { address: string; via?: string }>();
  const replies: AliasReplyRoute[] = [];
  const remote = new Map<string, EnvelopeRecipient>();
  const forwarded = new Map<string, EnvelopeRecipient>();
  const seen = new Set<string>();
  const used = new Set<string>();
  const dropped = new Set<string>();

  const visit = async (rcpt: EnvelopeRecipient, depth: number, via?: string): Promise<void> => {
    if (isWebhookUrl(rcpt.address)) {
      forwarded.set(rcpt.address, rcpt);
      return;
    }
    const resolved = await directory.resolve(rcpt.address);
    if (seen.has(resolved.address) || depth > MAX_DEPTH) return;
    seen.add(resolved.address);
    switch (resolved.kind) {
      case "account":
        if (!local.has(resolved.accountId)) local.set(resolved.accountId, { address: resolved.address, via });
        return;
      case "alias":
        if (resolved.alias) used.add(resolved.alias);
        // ORCPT keeps the address the sender used (RFC 3461 §4.2), for DSNs and webhooks.
        for (const target of resolved.targets) {
          await visit(
            { ...rcpt, address: target, orcpt: rcpt.orcpt ?? `rfc822;${resolved.address}` },
            depth + 1,
            // The outermost such alias is the one the correspondent wrote to.
            via ?? (resolved.reverse ? resolved.address : undefined),
          );
        }
        return;
      case "reverse":
        replies.push({
          rcpt,
          token: resolved.token,
          alias: resolved.alias,
          correspondent: resolved.correspondent,
          owners: resolved.owners,
        });
        return;
      case "remote":
        (depth > 0 ? forwarded : remote).set(resolved.address, { ...rcpt, address: resolved.address });
        return;
      case "srs":
        // A bounce to one of our SRS addresses goes back to where the original sender is.
        await visit({ ...rcpt, address: resolved.target }, depth + 1);
        return;
      case "disabled":
        // Refused at RCPT time unless aliases.onDisabled is "drop": then accepted and dropped here.
        dropped.add(resolved.alias);
        return;
      case "unknown":
      case "forged":
        // Refused at RCPT time; an alias pointing at a missing local address is dropped here.
        return;
    }
  };

  for (const rcpt of recipients) await visit(rcpt, 0);
  return {
    local: [...local].map(([accountId, { address, via }]) => ({ accountId, address, ...(via ? { via } : {}) })),
    remote: [...remote.values()],
    forwarded: [...forwarded.values()],
    aliases: { used: [...used], dropped: [...dropped] },
    replies,
  };
}
