/**
 * Summaries written by an older build (`summary_version` below SUMMARY_VERSION) are recomputed
 * from the blob when read, until the reindexer (reindex.ts) has rewritten them: a message stored
 * by any build reads the same over every protocol, even in the minutes after an upgrade.
 */
import { inArray } from "drizzle-orm";
import { type MessageSummary, summarize, SUMMARY_VERSION } from "../mime/summary.ts";
import type { Db } from "./db.ts";
import { blobs } from "./schema.ts";

export async function currentSummaries<T extends { summary: MessageSummary; summaryVersion: number; blobHash: string }>(
  db: Db,
  rows: T[],
): Promise<T[]> {
  const stale = rows.filter((r) => r.summaryVersion < SUMMARY_VERSION);
  if (stale.length === 0) return rows;
  const hashes = [...new Set(stale.map((r) => r.blobHash))];
  const data = new Map<string, Uint8Array>();
  for (let i = 0; i < hashes.length; i += 100) {
    for (
      const b of await db.select({ hash: blobs.hash, data: blobs.data }).from(blobs).where(
        inArray(blobs.hash, hashes.slice(i, i + 100)),
      )
    ) {
      data.set(b.hash, new Uint8Array(b.data));
    }
  }
  const fresh = new Map<string, MessageSummary>();
  return rows.map((r) => {
    if (r.summaryVersion >= SUMMARY_VERSION) return r;
    const raw = data.get(r.blobHash);
    if (!raw) return r;
    let summary = fresh.get(r.blobHash);
    if (!summary) fresh.set(r.blobHash, summary = summarize(raw));
    return { ...r, summary };
  });
}
