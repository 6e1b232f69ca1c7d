/**
 * Thread ids (JMAP threadId): a message joins the thread of any earlier message of the same account
 * that it refers to (In-Reply-To, References) or that refers to it; otherwise it starts its own
 * (RFC 8621 §3 leaves the algorithm to the server; this is the References-based one most use).
 */
import { and, eq, inArray, isNotNull } from "drizzle-orm";
import { createHash } from "node:crypto";
import { mailboxes, messages } from "../store/schema.ts";
import type { Store } from "../store/store.ts";

export interface ThreadHints {
  messageId?: string | null;
  inReplyTo?: readonly string[];
  references?: readonly string[];
}

export async function threadIdFor(store: Store, accountId: number, hints: ThreadHints): Promise<string> {
  const related = [...new Set([...(hints.references ?? []), ...(hints.inReplyTo ?? [])])].slice(-50);
  if (related.length > 0) {
    const [row] = await store.db
      .select({ threadId: messages.threadId })
      .from(messages)
      .innerJoin(mailboxes, eq(mailboxes.id, messages.mailboxId))
      .where(and(eq(mailboxes.accountId, accountId), inArray(messages.messageId, related), isNotNull(messages.threadId)))
      .limit(1);
    if (row?.threadId) return row.threadId;
  }
  const seed = hints.messageId ?? `${Date.now()}-${Math.random()}`;
  return `T${createHash("sha256").update(seed).digest("hex").slice(0, 16)}`;
}
