/**
 * The mail store service: every write to mail, as one typed method each, used alike by SMTP
 * delivery, IMAP, POP3, JMAP, REST and the embedding API. Each method is one transaction; it
 * resolves after the commit, and the store has published the changes it logged by then.
 */
import { type MessageSummary, summarize } from "../mime/summary.ts";
import { type Appended, appendEmail, expireUploads, putBlob } from "./append.ts";
import { count, eq } from "drizzle-orm";
import type { Db, Tx } from "./db.ts";
import { StoreError } from "./errors.ts";
import { createMailbox, deleteMailbox, type Mailbox, renameMailbox, setSubscribed } from "./mailboxes.ts";
import {
  copyMembers,
  type CopyResult,
  type FlagMode,
  membershipsOf,
  removeMembers,
  type StoreFlagsResult,
  storeMemberFlags,
} from "./membership.ts";
import { enqueue, type NewQueueEntry } from "./queue.ts";
import { copyWouldExceedQuota, wouldExceedQuota } from "./quota.ts";
import { mailboxes, messages, uploads } from "./schema.ts";
import { fileBySieve, recordSieve, type SieveFiling, type SieveRecords } from "./sieve-delivery.ts";
import type { Store } from "./store.ts";

export type { Appended } from "./append.ts";
export type { CopyResult, FlagMode, StoreFlagsResult } from "./membership.ts";

export interface AppendInput {
  accountId: number;
  mailboxId: number;
  raw: Uint8Array;
  flags?: readonly string[];
  receivedAt?: Date;
  /** Computed from `raw` when absent. */
  summary?: MessageSummary;
  /** Refuse (rather than store) when the account would go over its quota. */
  checkQuota?: boolean;
}

/** An accepted SMTP message: local copies and queue entries, all or nothing. */
export interface DeliveryInput {
  raw: Uint8Array;
  summary: MessageSummary;
  /** Where each account's active Sieve script files its copy (issue 21); accounts without one get the default. */
  sieve?: ReadonlyMap<number, SieveFiling>;
  /** Vacation replies and duplicate ids the scripts' runs leave, recorded only if the delivery commits. */
  sieveRecords?: SieveRecords;
  /**
   * One per local account: its INBOX, or its Junk mailbox when `junk` and it has one. A copy
   * may be its own variant of the message (`copy`: a rewritten Reply-To, issue 19).
   */
  local: Array<{ accountId: number; junk: boolean; copy?: { raw: Uint8Array; summary: MessageSummary } }>;
  /** An entry with `raw` sends that variant of the message (a reply through an alias). */
  queue: Array<NewQueueEntry & { raw?: Uint8Array }>;
}

/** How an email's keywords change (JMAP Email/set, REST PATCH). */
export type KeywordChange = { mode: FlagMode; flags: readonly string[] };

export class MailStore {
  constructor(
    private readonly store: Store,
    private readonly db: Db,
  ) {}

  /** IMAP APPEND, JMAP Email/import and Email/set create: one new email in one mailbox. */
  async append(input: AppendInput): Promise<Appended | "overQuota"> {
    const summary = input.summary ?? summarize(input.raw);
    return this.store.write(async (tx, changes) => {
      if (input.checkQuota !== false && (await wouldExceedQuota(tx, input.accountId, input.raw.byteLength))) {
        return "overQuota" as const;
      }
      const box = await this.#ownedMailbox(tx, input.accountId, input.mailboxId);
      return appendEmail(tx, changes, {
        accountId: box.accountId,
        mailbox: box.id,
        raw: input.raw,
        summary,
        flags: input.flags,
        receivedAt: input.receivedAt,
      });
    });
  }

  /** SMTP delivery: the blob once, an email per local account, the queue rows, in one transaction. */
  deliver(input: DeliveryInput): Promise<{ stored: Appended[]; queueIds: number[] }> {
    return this.store.write(async (tx, changes) => {
      // The message's blob, once, if some copy or entry is not a variant of its own.
      let shared: string | undefined;
      const blobHash = async () => (shared ??= await putBlob(tx, input.raw));
      const stored: Appended[] = [];
      for (const target of input.local) {
        const copy = target.copy ?? input;
        const filing = input.sieve?.get(target.accountId);
        if (filing) {
          const blob = target.copy ? () => putBlob(tx, copy.raw) : blobHash;
          const message = { raw: copy.raw, summary: copy.summary, blobHash: blob };
          stored.push(...(await fileBySieve(tx, changes, { ...target, filing }, message)));
          continue;
        }
        stored.push(
          await appendEmail(tx, changes, {
            accountId: target.accountId,
            mailbox: { role: target.junk ? "\\Junk" : "inbox" },
            raw: copy.raw,
            summary: copy.summary,
            blobHash: target.copy ? await putBlob(tx, copy.raw) : await blobHash(),
          }),
        );
      }
      if (input.sieveRecords) await recordSieve(tx, input.sieveRecords);
      const queueIds: number[] = [];
      for (const { raw, ...entry } of input.queue) {
        if (entry.recipients.length) {
          queueIds.push(await enqueue(tx, raw ? await putBlob(tx, raw) : await blobHash(), entry));
        }
      }
      return { stored, queueIds };
    });
  }

  /** IMAP COPY: the same emails join another mailbox, unless the copies would not fit the account's quota. */
  copy(from: number, uids: readonly number[], to: number): Promise<CopyResult | "overQuota"> {
    return this.store.write(async (tx, changes) => {
      if (await copyWouldExceedQuota(tx, from, uids)) return "overQuota" as const;
      return copyMembers(tx, changes, from, uids, to);
    });
  }

  /** IMAP MOVE (RFC 6851): copy and expunge in one transaction; the emails keep their ids. */
  move(from: number, uids: readonly number[], to: number): Promise<CopyResult> {
    return this.store.write(async (tx, changes) => {
      const copied = await copyMembers(tx, changes, from, uids, to);
      await removeMembers(tx, changes, from, copied.source);
      return copied;
    });
  }

  /** IMAP EXPUNGE, POP3 UPDATE: returns the UIDs removed. */
  expunge(mailboxId: number, uids: readonly number[]): Promise<number[]> {
    return this.store.write((tx, changes) => removeMembers(tx, changes, mailboxId, uids));
  }

  /** IMAP STORE with UNCHANGEDSINCE, POP3's \Seen after RETR. */
  storeFlags(
    mailboxId: number,
    uids: readonly number[],
    mode: FlagMode,
    flags: readonly string[],
    unchangedSince: number | null = null,
  ): Promise<StoreFlagsResult> {
    return this.store.write((tx, changes) =>
      storeMemberFlags(tx, changes, mailboxId, uids, mode, flags, unchangedSince)
    );
  }

  /**
   * JMAP Email/set update and REST PATCH: keywords on every membership (IMAP's \Deleted stays as
   * each mailbox has it), then the set of mailboxes (`mailboxIds`, at least one). The email keeps
   * its id. Null when done, "notFound" when the account has no such email, "overQuota" (nothing
   * changed) when the mailboxes it gains would take the account over its quota: each membership
   * counts (RFC 9208 §5.1).
   */
  updateEmail(
    accountId: number,
    emailId: number,
    update: { keywords?: KeywordChange[]; mailboxIds?: readonly number[] },
  ): Promise<null | "notFound" | "overQuota"> {
    return this.store.write(async (tx, changes) => {
      const members = await membershipsOf(tx, emailId);
      if (members.length === 0 || !(await this.#owns(tx, accountId, members[0]!.mailboxId))) return "notFound" as const;
      if (update.mailboxIds) {
        const target = new Set(update.mailboxIds);
        const gained = [...target].filter((id) => !members.some((m) => m.mailboxId === id)).length;
        const lost = members.filter((m) => !target.has(m.mailboxId)).length;
        if (gained > lost && (await wouldExceedQuota(tx, accountId, (gained - lost) * members[0]!.size))) {
          return "overQuota" as const;
        }
      }
      for (const change of update.keywords ?? []) {
        for (const m of members) {
          const flags = change.mode === "set"
            ? [...change.flags, ...(m.flags.includes("\\Deleted") ? ["\\Deleted"] : [])]
            : change.flags;
          await storeMemberFlags(tx, changes, m.mailboxId, [m.uid], change.mode, flags, null);
        }
      }
      if (update.mailboxIds) {
        const target = new Set(update.mailboxIds);
        if (target.size === 0) throw new StoreError("invalid", "An email must be in at least one mailbox");
        for (const id of target) await this.#ownedMailbox(tx, accountId, id);
        const now = await membershipsOf(tx, emailId);
        const source = now[0]!;
        for (const id of target) {
          if (!now.some((m) => m.mailboxId === id)) {
            await copyMembers(tx, changes, source.mailboxId, [source.uid], id);
          }
        }
        for (const m of now) if (!target.has(m.mailboxId)) await removeMembers(tx, changes, m.mailboxId, [m.uid]);
      }
      return null;
    });
  }

  /** JMAP Email/set destroy, REST DELETE: the email leaves every mailbox and is gone. */
  destroyEmail(accountId: number, emailId: number): Promise<boolean> {
    return this.store.write(async (tx, changes) => {
      const members = await membershipsOf(tx, emailId);
      if (members.length === 0 || !(await this.#owns(tx, accountId, members[0]!.mailboxId))) return false;
      for (const m of members) await removeMembers(tx, changes, m.mailboxId, [m.uid]);
      return true;
    });
  }

  createMailbox(accountId: number, name: string, role: string | null): Promise<Mailbox> {
    return this.store.write(async (tx, changes) => {
      if (await this.store.mailboxes.byName(accountId, name)) {
        throw new StoreError("exists", `A mailbox named ${name} exists`);
      }
      if (role && (await this.store.mailboxes.byRole(accountId, role))) {
        throw new StoreError("in-use", `${role} is already in use`);
      }
      return createMailbox(tx, changes, accountId, name, role);
    });
  }

  renameMailbox(box: Mailbox, to: string): Promise<void> {
    return this.store.write((tx, changes) => renameMailbox(tx, changes, box, to));
  }

  /**
   * Deletes a mailbox. With `onlyIfEmpty` (JMAP without onDestroyRemoveEmails, RFC 8621 §2.5)
   * a mailbox that still holds mail is refused with StoreError "in-use".
   */
  deleteMailbox(box: Mailbox, options: { onlyIfEmpty?: boolean } = {}): Promise<number> {
    return this.store.write(async (tx, changes) => {
      if (options.onlyIfEmpty) {
        const [held] = await tx.select({ n: count() }).from(messages).where(eq(messages.mailboxId, box.id));
        if (held!.n > 0) throw new StoreError("in-use", "The mailbox holds mail");
      }
      return deleteMailbox(tx, changes, box);
    });
  }

  setSubscribed(box: Mailbox, subscribed: boolean): Promise<void> {
    return this.store.write((tx, changes) => setSubscribed(tx, changes, box, subscribed));
  }

  /** A JMAP upload (RFC 8620 §6.1): the blob, kept alive for `ttlMs` even before an email uses it. */
  upload(accountId: number, bytes: Uint8Array, ttlMs = 24 * 3600_000): Promise<string> {
    return this.store.write(async (tx) => {
      await expireUploads(tx);
      const hash = await putBlob(tx, bytes);
      const expiresAt = new Date(Date.now() + ttlMs);
      await tx.insert(uploads).values({ hash, accountId, expiresAt }).onConflictDoUpdate({
        target: uploads.hash,
        set: { expiresAt, accountId },
      });
      return hash;
    });
  }

  async #owns(tx: Tx, accountId: number, mailboxId: number): Promise<boolean> {
    const [box] = await tx.select({ accountId: mailboxes.accountId }).from(mailboxes).where(
      eq(mailboxes.id, mailboxId),
    );
    return box?.accountId === accountId;
  }

  async #ownedMailbox(tx: Tx, accountId: number, mailboxId: number): Promise<Mailbox> {
    const [box] = await tx.select().from(mailboxes).where(eq(mailboxes.id, mailboxId));
    if (!box || box.accountId !== accountId) {
      throw new StoreError("not-found", `No mailbox ${mailboxId} in this account`);
    }
    return box;
  }
}
