/**
 * Reads of emails as JMAP and REST see them: one email with its mailboxes and keywords, whatever
 * number of mailboxes it is in; threads; the list views; blobs.
 */
import { and, asc, count, desc, eq, inArray, sql } from "drizzle-orm";
import type { MessageSummary } from "../mime/summary.ts";
import type { Db } from "./db.ts";
import { chunks } from "./membership.ts";
import { storageUsed, wouldExceedQuota } from "./quota.ts";
import { currentSummaries } from "./summary-read.ts";
import { collapsedPage, type WindowOptions } from "./thread-page.ts";
import { blobs, emails, messages, uploads } from "./schema.ts";
import type { Store } from "./store.ts";

export interface EmailView {
  id: number;
  accountId: number;
  blobHash: string;
  size: number;
  receivedAt: Date;
  summary: MessageSummary;
  threadId: string;
  messageId: string | null;
  subject: string | null;
  sentAt: Date | null;
  /** The mailboxes holding it, oldest membership first. */
  mailboxIds: number[];
  /**
   * Its flags: those of every membership together (they differ only when IMAP set them
   * differently per mailbox; JMAP writes the same keywords to every membership).
   */
  flags: string[];
}

const columns = {
  id: emails.id,
  accountId: emails.accountId,
  blobHash: emails.blobHash,
  size: emails.size,
  receivedAt: emails.receivedAt,
  summary: emails.summary,
  summaryVersion: emails.summaryVersion,
  threadId: emails.threadId,
  messageId: emails.messageId,
  subject: emails.subject,
  sentAt: emails.sentAt,
};

export class EmailRepository {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** The account's emails among `ids`, in no particular order; ids of other accounts are absent. */
  async get(accountId: number, ids: readonly number[]): Promise<EmailView[]> {
    const out: EmailView[] = [];
    for (const part of chunks([...new Set(ids)])) {
      const rows = await this.db.select(columns).from(emails).where(
        and(eq(emails.accountId, accountId), inArray(emails.id, part)),
      );
      out.push(...(await this.#withMemberships(rows)));
    }
    return out;
  }

  /** Every email of the account (JMAP Email/query with filters the index cannot serve). */
  async all(accountId: number): Promise<EmailView[]> {
    return this.#withMemberships(await this.db.select(columns).from(emails).where(eq(emails.accountId, accountId)));
  }

  async #withMemberships(
    stored: Array<Omit<EmailView, "mailboxIds" | "flags"> & { summaryVersion: number }>,
  ): Promise<EmailView[]> {
    const rows = await currentSummaries(this.db, stored);
    const members = new Map<number, { mailboxIds: number[]; flags: Set<string> }>();
    for (const part of chunks(rows.map((r) => r.id))) {
      const found = await this.db
        .select({ emailId: messages.emailId, mailboxId: messages.mailboxId, flags: messages.flags })
        .from(messages)
        .where(inArray(messages.emailId, part))
        .orderBy(asc(messages.id));
      for (const m of found) {
        let entry = members.get(m.emailId);
        if (!entry) members.set(m.emailId, entry = { mailboxIds: [], flags: new Set() });
        entry.mailboxIds.push(m.mailboxId);
        m.flags.forEach((f) => entry.flags.add(f));
      }
    }
    return rows.map(({ summaryVersion: _, ...r }) => ({
      ...r,
      mailboxIds: members.get(r.id)?.mailboxIds ?? [],
      flags: [...(members.get(r.id)?.flags ?? [])],
    }));
  }

  /**
   * The list view: emails of one mailbox (or of the account) by received time, newest first
   * unless `ascending`, straight from the index.
   */
  async page(accountId: number, options: WindowOptions & { collapseThreads?: boolean }) {
    if (options.collapseThreads) return collapsedPage(this.db, accountId, options);
    const order = (
      date: typeof messages.internalDate | typeof emails.receivedAt,
      id: typeof messages.emailId | typeof emails.id,
    ) => options.ascending ? [asc(date), asc(id)] : [desc(date), desc(id)];
    if (options.mailboxId !== null) {
      const scope = eq(messages.mailboxId, options.mailboxId);
      const rows = await this.db.select({ id: messages.emailId }).from(messages).where(scope).orderBy(
        ...order(messages.internalDate, messages.emailId),
      ).limit(options.limit).offset(options.position);
      const total = options.total
        ? (await this.db.select({ n: count() }).from(messages).where(scope))[0]!.n
        : undefined;
      return { ids: rows.map((r) => r.id), total };
    }
    const scope = eq(emails.accountId, accountId);
    const rows = await this.db.select({ id: emails.id }).from(emails).where(scope).orderBy(
      ...order(emails.receivedAt, emails.id),
    ).limit(options.limit).offset(options.position);
    const total = options.total ? (await this.db.select({ n: count() }).from(emails).where(scope))[0]!.n : undefined;
    return { ids: rows.map((r) => r.id), total };
  }

  /** The emails of each thread named, oldest first (JMAP Thread/get; RFC 8621 §3). */
  async threads(accountId: number, threadIds: readonly string[]): Promise<Map<string, number[]>> {
    const out = new Map<string, number[]>();
    for (const part of chunks([...new Set(threadIds)])) {
      const rows = await this.db
        .select({ id: emails.id, threadId: emails.threadId })
        .from(emails)
        .where(and(eq(emails.accountId, accountId), inArray(emails.threadId, part)))
        .orderBy(asc(emails.receivedAt), asc(emails.id));
      for (const r of rows) out.set(r.threadId, [...(out.get(r.threadId) ?? []), r.id]);
    }
    return out;
  }

  /** True when the account may read this blob: one of its emails or uploads has it. */
  async ownsBlob(accountId: number, hash: string): Promise<boolean> {
    const [email] = await this.db.select({ one: sql`1` }).from(emails).where(
      and(eq(emails.accountId, accountId), eq(emails.blobHash, hash)),
    ).limit(1);
    if (email) return true;
    const [upload] = await this.db.select({ one: sql`1` }).from(uploads).where(
      and(eq(uploads.accountId, accountId), eq(uploads.hash, hash)),
    ).limit(1);
    return upload !== undefined;
  }

  /** A stored blob's bytes. */
  async readBlob(hash: string): Promise<Uint8Array | undefined> {
    const [row] = await this.db.select({ data: blobs.data }).from(blobs).where(eq(blobs.hash, hash));
    return row ? new Uint8Array(row.data) : undefined;
  }

  /** Bytes the account's mailboxes hold, as its quota counts them (JMAP Quota, RFC 9425). */
  storageUsed(accountId: number): Promise<number> {
    return storageUsed(this.db, accountId);
  }

  /** True when adding `bytes` would take the account over its quota (`quota` when the caller read it already). */
  wouldExceedQuota(accountId: number, bytes: number, quota?: number | null): Promise<boolean> {
    return wouldExceedQuota(this.db, accountId, bytes, quota);
  }
}
