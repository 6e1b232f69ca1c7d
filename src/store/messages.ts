/**
 * Reads of mailbox memberships: the IMAP and POP3 view of a mailbox (uid, flags, modseq, size,
 * internal date), with summaries and raw bytes joined in from the email when asked for.
 */
import { and, asc, desc, eq, gt, gte, inArray, like, lt, notLike, or, sql } from "drizzle-orm";
import type { MessageSummary } from "../mime/summary.ts";
import type { Db } from "./db.ts";
import { jsonRows } from "./json-rows.ts";
import { chunks } from "./membership.ts";
import { currentSummaries } from "./summary-read.ts";
import { blobs, emails, messages } from "./schema.ts";
import type { Store } from "./store.ts";

/** A membership as IMAP and POP3 see it. */
export interface MessageMeta {
  uid: number;
  flags: string[];
  modseq: number;
  size: number;
  internalDate: Date;
  /** The email's identity (IMAP EMAILID, JMAP and REST id). */
  emailId: number;
  threadId: string;
}

export interface MessageWithSummary extends MessageMeta {
  summary: MessageSummary;
  blobHash: string;
}

/** What changed in a mailbox since a MODSEQ (IMAP CONDSTORE/QRESYNC, IDLE). */
export interface MailboxDelta {
  /** Memberships created or whose flags changed, with their current state. */
  changed: MessageMeta[];
  /** UIDs expunged since. */
  vanished: number[];
}

/** The REST list's filters (all optional). */
export interface MessageFilter {
  /** UIDs after (oldest first) or before (newest first) this one: the page cursor. */
  cursor?: number;
  order: "newest" | "oldest";
  after?: Date;
  before?: Date;
  text?: string;
  subject?: string;
  from?: string;
  unread?: boolean;
  flagged?: boolean;
  limit: number;
}

const meta = {
  uid: messages.uid,
  flags: messages.flags,
  modseq: messages.modseq,
  size: messages.size,
  internalDate: messages.internalDate,
  emailId: messages.emailId,
  threadId: emails.threadId,
};

export class MessageRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** Every membership of a mailbox, in UID order (IMAP SELECT, POP3 maildrop). */
  list(mailboxId: number): Promise<MessageMeta[]> {
    return this.db.select(meta).from(messages).innerJoin(emails, eq(emails.id, messages.emailId)).where(
      eq(messages.mailboxId, mailboxId),
    ).orderBy(asc(messages.uid));
  }

  /**
   * Every membership's UID, flags and MODSEQ, in UID order: what IMAP SELECT needs, read as one
   * JSON value (a 10,000-message mailbox is 10,000 rows).
   */
  async states(mailboxId: number): Promise<Array<Pick<MessageMeta, "uid" | "flags" | "modseq">>> {
    const rows = await jsonRows<[number, string[], number]>(
      this.db,
      sql`uid, json(flags), modseq`,
      sql`FROM messages WHERE mailbox_id = ${mailboxId}`,
    );
    return rows.map(([uid, flags, modseq]) => ({ uid, flags, modseq })).sort((a, b) => a.uid - b.uid);
  }

  /** Summaries and metadata of some UIDs (FETCH ENVELOPE/BODYSTRUCTURE never reparse). */
  async withSummaries(mailboxId: number, uids: readonly number[]): Promise<Map<number, MessageWithSummary>> {
    const out = new Map<number, MessageWithSummary>();
    for (const part of chunks([...new Set(uids)])) {
      const rows = await this.db
        .select({ ...meta, summary: emails.summary, summaryVersion: emails.summaryVersion, blobHash: emails.blobHash })
        .from(messages)
        .innerJoin(emails, eq(emails.id, messages.emailId))
        .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, part)));
      for (const row of await currentSummaries(this.db, rows)) out.set(row.uid, row);
    }
    return out;
  }

  /** Raw messages of several UIDs (FETCH BODY[], SEARCH TEXT, POP3 RETR). */
  async raws(mailboxId: number, uids: readonly number[]): Promise<Map<number, Uint8Array>> {
    const out = new Map<number, Uint8Array>();
    for (const part of chunks([...new Set(uids)], 100)) {
      const rows = await this.db
        .select({ uid: messages.uid, data: blobs.data })
        .from(messages)
        .innerJoin(emails, eq(emails.id, messages.emailId))
        .innerJoin(blobs, eq(blobs.hash, emails.blobHash))
        .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, part)));
      for (const row of rows) out.set(row.uid, new Uint8Array(row.data));
    }
    return out;
  }

  async raw(mailboxId: number, uid: number): Promise<Uint8Array | null> {
    return (await this.raws(mailboxId, [uid])).get(uid) ?? null;
  }

  /** What changed in a mailbox after `modseq`, from the change log. */
  async since(mailboxId: number, modseq: number): Promise<MailboxDelta> {
    const log = await this.store.changeLog.mailboxSince(mailboxId, modseq);
    const vanished = [...new Set(log.filter((c) => c.mailboxOp === "destroyed" && c.uid !== null).map((c) => c.uid!))]
      .sort((a, b) => a - b);
    const touched = [...new Set(log.filter((c) => c.mailboxOp !== "destroyed" && c.uid !== null).map((c) => c.uid!))];
    const changed: MessageMeta[] = [];
    for (const part of chunks(touched)) {
      changed.push(
        ...(await this.db.select(meta).from(messages).innerJoin(emails, eq(emails.id, messages.emailId)).where(
          and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, part)),
        )),
      );
    }
    return { changed: changed.sort((a, b) => a.uid - b.uid), vanished };
  }

  /** One page of a mailbox for the REST list, by UID, with its filters. */
  async page(mailboxId: number, filter: MessageFilter): Promise<MessageWithSummary[]> {
    const seen = '%"\\\\Seen"%';
    const flagged = '%"\\\\Flagged"%';
    const where = and(
      eq(messages.mailboxId, mailboxId),
      filter.cursor !== undefined
        ? (filter.order === "oldest" ? gt(messages.uid, filter.cursor) : lt(messages.uid, filter.cursor))
        : undefined,
      filter.after ? gte(messages.internalDate, filter.after) : undefined,
      filter.before ? lt(messages.internalDate, filter.before) : undefined,
      filter.text
        ? or(
          like(emails.subject, `%${filter.text}%`),
          like(sql`json_extract(${emails.summary}, '$.preview')`, `%${filter.text}%`),
        )
        : undefined,
      filter.unread === undefined
        ? undefined
        : filter.unread
        ? notLike(messages.flags, seen)
        : like(messages.flags, seen),
      filter.flagged === undefined
        ? undefined
        : filter.flagged
        ? like(messages.flags, flagged)
        : notLike(messages.flags, flagged),
      filter.subject ? like(emails.subject, `%${filter.subject}%`) : undefined,
      filter.from ? like(sql`json_extract(${emails.summary}, '$.from')`, `%${filter.from}%`) : undefined,
    );
    const rows = await this.db
      .select({ ...meta, summary: emails.summary, summaryVersion: emails.summaryVersion, blobHash: emails.blobHash })
      .from(messages)
      .innerJoin(emails, eq(emails.id, messages.emailId))
      .where(where)
      .orderBy(filter.order === "oldest" ? asc(messages.uid) : desc(messages.uid))
      .limit(filter.limit);
    return currentSummaries(this.db, rows);
  }
}
