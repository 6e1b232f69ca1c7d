/**
 * Runs a SEARCH key over the selected mailbox (for SEARCH, SORT and THREAD): messages are loaded in
 * batches, with their raw bytes only when the key looks into them.
 */
import type { MessageSummary } from "../mime/summary.ts";
import type { HandlerContext } from "./context.ts";
import { matches, needsSaveDate, searchNeeds } from "./search-eval.ts";
import type { SearchKey } from "./search.ts";

/** A matching message, with what SORT and THREAD read of it. */
export interface Match {
  uid: number;
  seq: number;
  modseq: number;
  size: number;
  internalDate: Date;
  summary: MessageSummary | null;
}

/** Messages are loaded in batches so that a search over a large mailbox does not pile up. */
const BATCH = 200;

/** The selected mailbox's messages that match `key`, in UID order. */
export async function matching(ctx: HandlerContext, key: SearchKey): Promise<Match[]> {
  const view = ctx.view!;
  const needs = searchNeeds(key);
  const found: Match[] = [];
  const uids = [...view.uids];
  for (let i = 0; i < uids.length; i += BATCH) {
    const batch = uids.slice(i, i + BATCH);
    const rows = await ctx.backend.summaries(view.mailbox.id, batch);
    const raws = needs.raw ? await ctx.backend.raws(view.mailbox.id, batch) : null;
    const saved = needsSaveDate(key) ? await ctx.backend.saveDates(view.mailbox.id, batch) : null;
    for (const uid of batch) {
      const row = rows.get(uid);
      const state = view.state(uid);
      if (!row || !state) continue;
      const target = {
        seq: view.seqOf(uid),
        uid,
        flags: state.flags,
        modseq: state.modseq,
        size: row.size,
        internalDate: row.internalDate,
        summary: row.summary,
        raw: raws?.get(uid) ?? null,
        saveDate: saved?.get(uid) ?? null,
        emailId: row.emailId,
        threadId: row.threadId,
        recent: view.isRecent(uid),
        maxSeq: view.exists,
        maxUid: view.maxUid,
        saved: view.saved,
      };
      if (matches(key, target)) found.push(target);
    }
  }
  return found;
}

/** Whether a key uses MODSEQ (RFC 7162 §3.1.5: the response then carries the highest MODSEQ). */
export function usesModseq(key: SearchKey): boolean {
  return JSON.stringify(key).includes('"modseq"');
}
