/**
 * The IMAP session's backend over the store. Every write runs in one transaction and publishes
 * a change event after the commit, which wakes IDLE sessions and the JMAP push.
 */
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import type { AuthThrottle } from "../auth/throttle.ts";
import { threadIdFor } from "../deliver/thread.ts";
import type { ImapAccount, ImapBackend, MailboxChanges, MailboxInfo, MessageMeta, MessageState, WriteResult } from "../imap/backend.ts";
import { summarize, type MessageSummary } from "../mime/summary.ts";
import { createMailbox, deleteMailbox, type Mailbox, renameMailbox, setSubscribed } from "../store/mailboxes.ts";
import { blobs, changes, mailboxes, messages } from "../store/schema.ts";
import type { Store } from "../store/store.ts";
import { checkPassword } from "./password.ts";
import { wouldExceedQuota } from "../store/quota.ts";

function info(m: Mailbox): MailboxInfo {
  return { id: m.id, name: m.name, role: m.role, subscribed: m.subscribed, uidValidity: m.uidValidity, uidNext: m.uidNext, highestModseq: m.highestModseq };
}

export class StoreImapBackend implements ImapBackend {
  readonly #db: Store;
  readonly #throttle: AuthThrottle;

  constructor(store: Store, throttle: AuthThrottle) {
    this.#db = store;
    this.#throttle = throttle;
  }

  authenticate(username: string, password: string, peer: { remoteAddress: string }): Promise<ImapAccount | null> {
    return checkPassword(this.#db, this.#throttle, username, password, peer.remoteAddress);
  }

  async mailboxes(account: ImapAccount): Promise<MailboxInfo[]> {
    return (await this.#db.mailboxes.list(account.id)).map(info);
  }

  async #mailbox(id: number): Promise<Mailbox | undefined> {
    const [row] = await this.#db.db.select().from(mailboxes).where(eq(mailboxes.id, id));
    return row;
  }

  async messages(mailboxId: number): Promise<MessageMeta[]> {
    return this.#db.db
      .select({ uid: messages.uid, flags: messages.flags, modseq: messages.modseq, size: messages.size, internalDate: messages.internalDate })
      .from(messages)
      .where(eq(messages.mailboxId, mailboxId))
      .orderBy(asc(messages.uid));
  }

  async changesSince(mailboxId: number, modseq: number): Promise<MailboxChanges | null> {
    const box = await this.#mailbox(mailboxId);
    if (!box) return null;
    if (box.highestModseq <= modseq) return { mailbox: info(box), changed: [], vanished: [] };
    const log = await this.#db.db
      .select({ uid: changes.uid, op: changes.op })
      .from(changes)
      .where(and(eq(changes.mailboxId, mailboxId), eq(changes.type, "email"), gt(changes.id, modseq)));
    const vanished = [...new Set(log.filter((c) => c.op === "destroyed" && c.uid !== null).map((c) => c.uid!))].sort((a, b) => a - b);
    const touched = [...new Set(log.filter((c) => c.op !== "destroyed" && c.uid !== null).map((c) => c.uid!))];
    const changed: MessageState[] = touched.length
      ? await this.#db.db
          .select({ uid: messages.uid, flags: messages.flags, modseq: messages.modseq })
          .from(messages)
          .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, touched)))
          .orderBy(asc(messages.uid))
      : [];
    return { mailbox: info(box), changed, vanished };
  }

  async summaries(mailboxId: number, uids: readonly number[]): Promise<Map<number, MessageMeta & { summary: MessageSummary }>> {
    if (uids.length === 0) return new Map();
    const rows = await this.#db.db
      .select({ uid: messages.uid, flags: messages.flags, modseq: messages.modseq, size: messages.size, internalDate: messages.internalDate, summary: messages.summary })
      .from(messages)
      .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, [...uids])));
    return new Map(rows.map((r) => [r.uid, { ...r, summary: r.summary as unknown as MessageSummary }]));
  }

  async raw(mailboxId: number, uid: number): Promise<Uint8Array | null> {
    const [row] = await this.#db.db
      .select({ data: blobs.data })
      .from(messages)
      .innerJoin(blobs, eq(blobs.hash, messages.blobHash))
      .where(and(eq(messages.mailboxId, mailboxId), eq(messages.uid, uid)));
    return row ? new Uint8Array(row.data) : null;
  }

  async raws(mailboxId: number, uids: readonly number[]): Promise<Map<number, Uint8Array>> {
    if (uids.length === 0) return new Map();
    const rows = await this.#db.db
      .select({ uid: messages.uid, data: blobs.data })
      .from(messages)
      .innerJoin(blobs, eq(blobs.hash, messages.blobHash))
      .where(and(eq(messages.mailboxId, mailboxId), inArray(messages.uid, [...uids])));
    return new Map(rows.map((r) => [r.uid, new Uint8Array(r.data)]));
  }

  async status(mailboxId: number): Promise<{ messages: number; unseen: number; size: number; deleted: number }> {
    const rows = await this.#db.db.select({ flags: messages.flags, size: messages.size }).from(messages).where(eq(messages.mailboxId, mailboxId));
    return {
      messages: rows.length,
      unseen: rows.filter((r) => !r.flags.includes("\\Seen")).length,
      deleted: rows.filter((r) => r.flags.includes("\\Deleted")).length,
      size: rows.reduce((n, r) => n + r.size, 0),
    };
  }

  #publish(accountId: number, mailboxIds: number[], modseq: number): void {
    this.#db.changes.publish({ accountId, mailboxIds, modseq });
  }

  async createMailbox(account: ImapAccount, name: string, specialUse: string | null): Promise<WriteResult<MailboxInfo>> {
    if (await this.#db.mailboxes.byName(account.id, name)) return { ok: false, code: "ALREADYEXISTS", message: "That name is taken" };
    if (specialUse && (await this.#db.mailboxes.byRole(account.id, specialUse))) return { ok: false, code: "CANNOT", message: `${specialUse} is already in use` };
    const box = await this.#db.write((tx) => createMailbox(tx, account.id, name, specialUse));
    this.#publish(account.id, [box.id], box.highestModseq);
    return { ok: true, value: info(box) };
  }

  async deleteMailbox(account: ImapAccount, mailboxId: number): Promise<WriteResult<null>> {
    const box = await this.#mailbox(mailboxId);
    if (!box || box.accountId !== account.id) return { ok: false, code: "NONEXISTENT", message: "No such mailbox" };
    if (box.role === "inbox") return { ok: false, code: "CANNOT", message: "INBOX cannot be deleted" };
    const modseq = await this.#db.write((tx) => deleteMailbox(tx, box));
    this.#publish(account.id, [box.id], modseq);
    return { ok: true, value: null };
  }

  async renameMailbox(account: ImapAccount, mailboxId: number, to: string): Promise<WriteResult<null>> {
    const box = await this.#mailbox(mailboxId);
    if (!box || box.accountId !== account.id) return { ok: false, code: "NONEXISTENT", message: "No such mailbox" };
    await this.#db.write((tx) => renameMailbox(tx, this.#db, box, to));
    this.#publish(account.id, [box.id], 0);
    return { ok: true, value: null };
  }

  async subscribe(account: ImapAccount, mailboxId: number, subscribed: boolean): Promise<void> {
    const box = await this.#mailbox(mailboxId);
    if (box && box.accountId === account.id) await this.#db.write((tx) => setSubscribed(tx, box, subscribed));
  }

  async append(account: ImapAccount, mailboxId: number, message: Uint8Array, flags: string[], date: Date | null): Promise<WriteResult<{ uidValidity: number; uid: number }>> {
    const summary = await summarize(message);
    const threadId = await threadIdFor(this.#db, account.id, summary);
    const appended = await this.#db.write(async (tx) => {
      if (await wouldExceedQuota(tx, account.id, message.length)) return null;
      const hash = await this.#db.messages.putBlob(tx, message);
      return this.#db.messages.append(tx, hash, message.length, {
        mailboxId,
        summary: summary as unknown as Record<string, unknown>,
        flags: [...new Set(flags)],
        internalDate: date ?? new Date(),
        messageId: summary.messageId,
        threadId,
        subject: summary.subject,
        sentAt: summary.sentAt ? new Date(summary.sentAt) : null,
      });
    });
    // RFC 9051 §7.1: OVERQUOTA, the message would take the account over its quota.
    if (!appended) return { ok: false, code: "OVERQUOTA", message: "Quota exceeded" };
    this.#publish(account.id, [mailboxId], appended.modseq);
    return { ok: true, value: { uidValidity: appended.uidValidity, uid: appended.uid } };
  }

  async store(mailboxId: number, uids: readonly number[], mode: "set" | "add" | "remove", flags: readonly string[], unchangedSince: number | null) {
    const result = await this.#db.write((tx) => this.#db.messages.storeFlags(tx, mailboxId, uids, mode, flags, unchangedSince));
    if (result.updated.length && result.accountId !== null) {
      this.#publish(result.accountId, [mailboxId], Math.max(...result.updated.map((u) => u.modseq)));
    }
    return result;
  }

  async copy(mailboxId: number, uids: readonly number[], targetId: number) {
    const result = await this.#db.write((tx) => this.#db.messages.copy(tx, mailboxId, uids, targetId));
    if (result.last) this.#publish(result.last.accountId, [targetId], result.last.modseq);
    return result;
  }

  async move(mailboxId: number, uids: readonly number[], targetId: number) {
    const result = await this.#db.write(async (tx) => {
      const copied = await this.#db.messages.copy(tx, mailboxId, uids, targetId);
      const expunged = await this.#db.messages.expunge(tx, mailboxId, copied.source);
      return { ...copied, expunged };
    });
    if (result.expunged) this.#publish(result.expunged.accountId, [mailboxId, targetId], result.expunged.modseq);
    return result;
  }

  async expunge(mailboxId: number, uids: readonly number[]): Promise<void> {
    const result = await this.#db.write((tx) => this.#db.messages.expunge(tx, mailboxId, uids));
    if (result) this.#publish(result.accountId, [mailboxId], result.modseq);
  }

  watch(account: ImapAccount, listener: () => void): () => void {
    return this.#db.changes.subscribe(account.id, () => listener());
  }
}
