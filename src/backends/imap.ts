/**
 * The IMAP session's backend over the store's mail service. Every write is one store method (one
 * transaction); the store publishes its changes after the commit, which wakes IDLE sessions and
 * the JMAP push.
 */
import type { Banned } from "../auth/login.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import type {
  ImapAccount,
  ImapBackend,
  MailboxChanges,
  MailboxInfo,
  MessageMeta,
  MessageState,
  StoredMessage,
  WriteResult,
} from "../imap/backend.ts";
import { emailId } from "../api/jmap/email.ts";
import { mailboxId } from "../api/jmap/mailbox.ts";
import { StoreError } from "../store/errors.ts";
import type { Mailbox } from "../store/mailboxes.ts";
import type { Store } from "../store/store.ts";
import { checkPassword } from "./password.ts";

function info(m: Mailbox): MailboxInfo {
  return {
    id: m.id,
    name: m.name,
    role: m.role,
    subscribed: m.subscribed,
    uidValidity: m.uidValidity,
    uidNext: m.uidNext,
    highestModseq: m.highestModseq,
    recentUid: m.recentUid,
    objectId: mailboxId(m.id),
  };
}

export class StoreImapBackend implements ImapBackend {
  readonly #db: Store;
  readonly #throttle: AuthThrottle;

  constructor(store: Store, throttle: AuthThrottle) {
    this.#db = store;
    this.#throttle = throttle;
  }

  authenticate(
    username: string,
    password: string,
    peer: { remoteAddress: string },
  ): Promise<ImapAccount | null | Banned> {
    return checkPassword(this.#db, this.#throttle, username, password, peer.remoteAddress);
  }

  async mailboxes(account: ImapAccount): Promise<MailboxInfo[]> {
    return (await this.#db.mailboxes.list(account.id)).map(info);
  }

  #mailbox(id: number): Promise<Mailbox | undefined> {
    return this.#db.mailboxes.byId(id);
  }

  messages(mailboxId: number): Promise<MessageMeta[]> {
    return this.#db.messages.list(mailboxId);
  }

  states(mailboxId: number): Promise<MessageState[]> {
    return this.#db.messages.states(mailboxId);
  }

  async changesSince(mailboxId: number, modseq: number): Promise<MailboxChanges | null> {
    const box = await this.#mailbox(mailboxId);
    if (!box) return null;
    if (box.highestModseq <= modseq) return { mailbox: info(box), changed: [], vanished: [] };
    const delta = await this.#db.messages.since(mailboxId, modseq);
    return { mailbox: info(box), changed: delta.changed, vanished: delta.vanished };
  }

  async summaries(mailbox: number, uids: readonly number[]): Promise<Map<number, StoredMessage>> {
    const rows = await this.#db.messages.withSummaries(mailbox, uids);
    // OBJECTID (RFC 8474): the ids JMAP gives the same email and thread.
    return new Map([...rows].map(([uid, row]) => [uid, { ...row, emailId: emailId(row.emailId) }]));
  }

  saveDates(mailboxId: number, uids: readonly number[]): Promise<Map<number, Date>> {
    return this.#db.imap.saveDates(mailboxId, uids);
  }

  raw(mailboxId: number, uid: number): Promise<Uint8Array | null> {
    return this.#db.messages.raw(mailboxId, uid);
  }

  raws(mailboxId: number, uids: readonly number[]): Promise<Map<number, Uint8Array>> {
    return this.#db.messages.raws(mailboxId, uids);
  }

  async status(mailboxId: number): Promise<{ messages: number; unseen: number; size: number; deleted: number }> {
    const box = await this.#mailbox(mailboxId);
    const counts = box ? (await this.#db.mailboxes.counts(box.accountId, [mailboxId])).get(mailboxId) : undefined;
    return {
      messages: counts?.total ?? 0,
      unseen: counts?.unread ?? 0,
      deleted: counts?.deleted ?? 0,
      size: counts?.size ?? 0,
    };
  }

  async createMailbox(
    account: ImapAccount,
    name: string,
    specialUse: string | null,
  ): Promise<WriteResult<MailboxInfo>> {
    try {
      return { ok: true, value: info(await this.#db.mail.createMailbox(account.id, name, specialUse)) };
    } catch (e) {
      if (e instanceof StoreError && e.code === "exists") {
        return { ok: false, code: "ALREADYEXISTS", message: "That name is taken" };
      }
      if (e instanceof StoreError && e.code === "in-use") {
        return { ok: false, code: "CANNOT", message: `${specialUse} is already in use` };
      }
      throw e;
    }
  }

  async deleteMailbox(account: ImapAccount, mailboxId: number): Promise<WriteResult<null>> {
    const box = await this.#mailbox(mailboxId);
    if (!box || box.accountId !== account.id) return { ok: false, code: "NONEXISTENT", message: "No such mailbox" };
    if (box.role === "inbox") return { ok: false, code: "CANNOT", message: "INBOX cannot be deleted" };
    await this.#db.mail.deleteMailbox(box);
    return { ok: true, value: null };
  }

  async renameMailbox(account: ImapAccount, mailboxId: number, to: string): Promise<WriteResult<null>> {
    const box = await this.#mailbox(mailboxId);
    if (!box || box.accountId !== account.id) return { ok: false, code: "NONEXISTENT", message: "No such mailbox" };
    await this.#db.mail.renameMailbox(box, to);
    return { ok: true, value: null };
  }

  subscriptions(account: ImapAccount): Promise<string[]> {
    return this.#db.imap.subscribed(account.id);
  }

  subscribe(account: ImapAccount, name: string, subscribed: boolean): Promise<void> {
    return this.#db.imap.setSubscription(account.id, name, subscribed);
  }

  claimRecent(mailboxId: number): Promise<{ after: number; upTo: number }> {
    return this.#db.imap.claimRecent(mailboxId);
  }

  quota(account: ImapAccount): Promise<{ limit: number | null; used: number }> {
    return this.#db.imap.quota(account.id);
  }

  async unclaimedRecent(mailbox: MailboxInfo): Promise<number> {
    if (mailbox.recentUid >= mailbox.uidNext - 1) return 0;
    return await this.#db.imap.countAbove(mailbox.id, mailbox.recentUid);
  }

  async append(
    account: ImapAccount,
    mailboxId: number,
    messages: ReadonlyArray<{ message: Uint8Array; flags: string[]; date: Date | null }>,
  ): Promise<WriteResult<{ uidValidity: number; uids: number[] }>> {
    const now = new Date();
    const appended = await this.#db.imap.appendAll(
      account.id,
      mailboxId,
      messages.map((m) => ({ raw: m.message, flags: m.flags, receivedAt: m.date ?? now })),
    );
    // RFC 9051 §7.1: OVERQUOTA, the messages would take the account over its quota.
    if (appended === "overQuota") return { ok: false, code: "OVERQUOTA", message: "Quota exceeded" };
    return { ok: true, value: { uidValidity: appended[0]!.uidValidity, uids: appended.map((a) => a.uid) } };
  }

  store(
    mailboxId: number,
    uids: readonly number[],
    mode: "set" | "add" | "remove",
    flags: readonly string[],
    unchangedSince: number | null,
  ) {
    return this.#db.mail.storeFlags(mailboxId, uids, mode, flags, unchangedSince);
  }

  copy(mailboxId: number, uids: readonly number[], targetId: number) {
    return this.#db.mail.copy(mailboxId, uids, targetId);
  }

  move(mailboxId: number, uids: readonly number[], targetId: number) {
    return this.#db.mail.move(mailboxId, uids, targetId);
  }

  async expunge(mailboxId: number, uids: readonly number[]): Promise<void> {
    await this.#db.mail.expunge(mailboxId, uids);
  }

  watch(account: ImapAccount, listener: () => void): () => void {
    return this.#db.changes.subscribe(account.id, () => listener());
  }
}
