/**
 * IMAP MULTIAPPEND (RFC 3502): several messages into one mailbox in one transaction — all of them
 * are stored, or none (§3: "the server MUST NOT append any of them" when one fails).
 */
import { eq } from "drizzle-orm";
import { summarize } from "../mime/summary.ts";
import { type Appended, appendEmail } from "./append.ts";
import { StoreError } from "./errors.ts";
import { wouldExceedQuota } from "./quota.ts";
import { mailboxes } from "./schema.ts";
import type { Store } from "./store.ts";

export interface AppendItem {
  raw: Uint8Array;
  flags: readonly string[];
  receivedAt: Date;
}

/** Appends every item, in order, or nothing: "overQuota" when together they would not fit. */
export function appendAll(
  store: Store,
  accountId: number,
  mailboxId: number,
  items: readonly AppendItem[],
): Promise<Appended[] | "overQuota"> {
  const summaries = items.map((item) => summarize(item.raw));
  return store.write(async (tx, changes) => {
    const total = items.reduce((sum, item) => sum + item.raw.byteLength, 0);
    if (await wouldExceedQuota(tx, accountId, total)) return "overQuota" as const;
    const [box] = await tx.select({ accountId: mailboxes.accountId }).from(mailboxes).where(
      eq(mailboxes.id, mailboxId),
    );
    if (!box || box.accountId !== accountId) {
      throw new StoreError("not-found", `No mailbox ${mailboxId} in this account`);
    }
    const out: Appended[] = [];
    for (const [i, item] of items.entries()) {
      out.push(
        await appendEmail(tx, changes, {
          accountId,
          mailbox: mailboxId,
          raw: item.raw,
          summary: summaries[i]!,
          flags: item.flags,
          receivedAt: item.receivedAt,
        }),
      );
    }
    return out;
  });
}
