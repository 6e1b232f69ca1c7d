/**
 * An IMAP backend in memory for the session tests: the account alice / secret with INBOX and
 * Trash, a MODSEQ counter and an expunge log, so a session can be driven through every command
 * without a store or a socket.
 */
import type {
  ImapAccount,
  ImapBackend,
  MailboxChanges,
  MailboxInfo,
  MessageMeta,
  MessageState,
  StoredMessage,
  WriteResult,
} from "../../src/imap/backend.ts";
import { type MessageSummary, summarize } from "../../src/mime/summary.ts";

interface Stored extends MessageMeta {
  raw: Uint8Array;
  summary: MessageSummary;
  emailId: string;
  threadId: string;
  savedAt: Date;
}

interface Box {
  info: Omit<MailboxInfo, "uidNext" | "highestModseq">;
  uidNext: number;
  highestModseq: number;
  messages: Stored[];
  /** UIDs expunged, with the MODSEQ of their expunge. */
  vanished: Array<{ uid: number; modseq: number }>;
}

const ALICE: ImapAccount = { id: 1, address: "alice@example.org" };

export class MemoryImapBackend implements ImapBackend {
  #boxes = new Map<number, Box>();
  #modseq = 0;
  #nextBox = 1;
  #nextEmail = 1;
  #listeners = new Set<() => void>();
  readonly subscribed = new Set<string>(["INBOX", "Trash"]);

  constructor() {
    this.#create("INBOX", "inbox");
    this.#create("Trash", "\\Trash");
  }

  #create(name: string, role: string | null): Box {
    const id = this.#nextBox++;
    const box: Box = {
      info: {
        id,
        name,
        role,
        subscribed: this.subscribed.has(name),
        uidValidity: 1000 + id,
        recentUid: 0,
        objectId: `MB${id}`,
      },
      uidNext: 1,
      highestModseq: ++this.#modseq,
      messages: [],
      vanished: [],
    };
    this.#boxes.set(id, box);
    return box;
  }

  #info(box: Box): MailboxInfo {
    return {
      ...box.info,
      subscribed: this.subscribed.has(box.info.name),
      uidNext: box.uidNext,
      highestModseq: box.highestModseq,
    };
  }

  #box(id: number): Box {
    const box = this.#boxes.get(id);
    if (!box) throw new Error(`no mailbox ${id}`);
    return box;
  }

  #changed(): void {
    for (const listener of this.#listeners) listener();
  }

  #add(box: Box, raw: Uint8Array, flags: string[], date: Date | null, emailId?: string): Stored {
    const summary = summarize(raw);
    const modseq = ++this.#modseq;
    const message: Stored = {
      uid: box.uidNext++,
      flags,
      modseq,
      size: raw.length,
      internalDate: date ?? new Date(),
      raw,
      summary,
      emailId: emailId ?? `M${this.#nextEmail++}`,
      threadId: `T${summary.subject ?? ""}`.replace(/[^\w-]/g, "_"),
      savedAt: new Date(),
    };
    box.messages.push(message);
    box.highestModseq = modseq;
    return message;
  }

  /** Delivers a message as SMTP would (for tests of what other sessions see). */
  deliver(name: string, text: string, flags: string[] = []): number {
    const box = [...this.#boxes.values()].find((b) => b.info.name === name)!;
    const uid = this.#add(box, new TextEncoder().encode(text), flags, null).uid;
    this.#changed();
    return uid;
  }

  async authenticate(username: string, password: string): Promise<ImapAccount | null> {
    return username === "alice" && password === "secret" ? ALICE : null;
  }

  async mailboxes(): Promise<MailboxInfo[]> {
    return [...this.#boxes.values()].map((b) => this.#info(b));
  }

  async states(mailboxId: number): Promise<MessageState[]> {
    return this.#box(mailboxId).messages.map(({ uid, flags, modseq }) => ({ uid, flags, modseq }));
  }

  async messages(mailboxId: number): Promise<MessageMeta[]> {
    return this.#box(mailboxId).messages.map(({ uid, flags, modseq, size, internalDate }) => ({
      uid,
      flags,
      modseq,
      size,
      internalDate,
    }));
  }

  async changesSince(mailboxId: number, modseq: number): Promise<MailboxChanges | null> {
    const box = this.#boxes.get(mailboxId);
    if (!box) return null;
    return {
      mailbox: this.#info(box),
      changed: box.messages.filter((m) => m.modseq > modseq).map(({ uid, flags, modseq }) => ({ uid, flags, modseq })),
      vanished: box.vanished.filter((v) => v.modseq > modseq).map((v) => v.uid),
    };
  }

  async summaries(mailboxId: number, uids: readonly number[]): Promise<Map<number, StoredMessage>> {
    const wanted = new Set(uids);
    return new Map(this.#box(mailboxId).messages.filter((m) => wanted.has(m.uid)).map((m) => [m.uid, m]));
  }

  async raw(mailboxId: number, uid: number): Promise<Uint8Array | null> {
    return this.#box(mailboxId).messages.find((m) => m.uid === uid)?.raw ?? null;
  }

  async raws(mailboxId: number, uids: readonly number[]): Promise<Map<number, Uint8Array>> {
    const wanted = new Set(uids);
    return new Map(this.#box(mailboxId).messages.filter((m) => wanted.has(m.uid)).map((m) => [m.uid, m.raw]));
  }

  async saveDates(mailboxId: number, uids: readonly number[]): Promise<Map<number, Date>> {
    const wanted = new Set(uids);
    return new Map(this.#box(mailboxId).messages.filter((m) => wanted.has(m.uid)).map((m) => [m.uid, m.savedAt]));
  }

  async status(mailboxId: number) {
    const messages = this.#box(mailboxId).messages;
    return {
      messages: messages.length,
      unseen: messages.filter((m) => !m.flags.includes("\\Seen")).length,
      deleted: messages.filter((m) => m.flags.includes("\\Deleted")).length,
      size: messages.reduce((sum, m) => sum + m.size, 0),
    };
  }

  async createMailbox(
    _account: ImapAccount,
    name: string,
    specialUse: string | null,
  ): Promise<WriteResult<MailboxInfo>> {
    if ([...this.#boxes.values()].some((b) => b.info.name === name)) {
      return { ok: false, code: "ALREADYEXISTS", message: "That name is taken" };
    }
    const box = this.#create(name, specialUse);
    this.#changed();
    return { ok: true, value: this.#info(box) };
  }

  async deleteMailbox(_account: ImapAccount, mailboxId: number): Promise<WriteResult<null>> {
    if (this.#box(mailboxId).info.role === "inbox") return { ok: false, code: "CANNOT", message: "INBOX stays" };
    this.#boxes.delete(mailboxId);
    this.#changed();
    return { ok: true, value: null };
  }

  async renameMailbox(_account: ImapAccount, mailboxId: number, to: string): Promise<WriteResult<null>> {
    this.#box(mailboxId).info.name = to;
    this.#changed();
    return { ok: true, value: null };
  }

  async subscriptions(): Promise<string[]> {
    return [...this.subscribed].sort();
  }

  async subscribe(_account: ImapAccount, name: string, subscribed: boolean): Promise<void> {
    if (subscribed) this.subscribed.add(name);
    else this.subscribed.delete(name);
  }

  async claimRecent(mailboxId: number): Promise<{ after: number; upTo: number }> {
    const box = this.#box(mailboxId);
    const after = box.info.recentUid;
    if (after >= box.uidNext - 1) return { after: 0, upTo: 0 };
    box.info.recentUid = box.uidNext - 1;
    return { after, upTo: box.uidNext - 1 };
  }

  /** The account's quota in bytes; null for none. */
  quotaLimit: number | null = null;

  async quota(): Promise<{ limit: number | null; used: number }> {
    const used = [...this.#boxes.values()].flatMap((b) => b.messages).reduce((sum, m) => sum + m.size, 0);
    return { limit: this.quotaLimit, used };
  }

  async unclaimedRecent(mailbox: MailboxInfo): Promise<number> {
    return this.#box(mailbox.id).messages.filter((m) => m.uid > mailbox.recentUid).length;
  }

  async append(
    _account: ImapAccount,
    mailboxId: number,
    messages: ReadonlyArray<{ message: Uint8Array; flags: string[]; date: Date | null }>,
  ): Promise<WriteResult<{ uidValidity: number; uids: number[] }>> {
    const box = this.#box(mailboxId);
    const uids = messages.map((m) => this.#add(box, m.message, m.flags, m.date).uid);
    this.#changed();
    return { ok: true, value: { uidValidity: box.info.uidValidity, uids } };
  }

  async store(
    mailboxId: number,
    uids: readonly number[],
    mode: "set" | "add" | "remove",
    flags: readonly string[],
    unchangedSince: number | null,
  ): Promise<{ updated: MessageState[]; unchanged: MessageState[]; modified: number[] }> {
    const box = this.#box(mailboxId);
    const updated: MessageState[] = [];
    const unchanged: MessageState[] = [];
    const modified: number[] = [];
    for (const m of box.messages.filter((m) => uids.includes(m.uid))) {
      if (unchangedSince !== null && m.modseq > unchangedSince) {
        modified.push(m.uid);
        continue;
      }
      const lower = new Set(flags.map((f) => f.toLowerCase()));
      const next = mode === "set"
        ? [...flags]
        : mode === "add"
        ? [...m.flags, ...flags.filter((f) => !m.flags.some((g) => g.toLowerCase() === f.toLowerCase()))]
        : m.flags.filter((f) => !lower.has(f.toLowerCase()));
      if (next.length === m.flags.length && next.every((f, i) => f === m.flags[i])) {
        unchanged.push({ uid: m.uid, flags: m.flags, modseq: m.modseq });
        continue;
      }
      m.flags = next;
      m.modseq = ++this.#modseq;
      box.highestModseq = m.modseq;
      updated.push({ uid: m.uid, flags: m.flags, modseq: m.modseq });
    }
    if (updated.length) this.#changed();
    return { updated, unchanged, modified };
  }

  async copy(mailboxId: number, uids: readonly number[], targetId: number) {
    const source = this.#box(mailboxId);
    const target = this.#box(targetId);
    const copied = source.messages.filter((m) => uids.includes(m.uid));
    const destination = copied.map((m) => this.#add(target, m.raw, [...m.flags], m.internalDate, m.emailId).uid);
    this.#changed();
    return { uidValidity: target.info.uidValidity, source: copied.map((m) => m.uid), destination };
  }

  async move(mailboxId: number, uids: readonly number[], targetId: number) {
    const result = await this.copy(mailboxId, uids, targetId);
    await this.expunge(mailboxId, result.source);
    return result;
  }

  async expunge(mailboxId: number, uids: readonly number[]): Promise<void> {
    const box = this.#box(mailboxId);
    for (const uid of uids) {
      const at = box.messages.findIndex((m) => m.uid === uid);
      if (at === -1) continue;
      box.messages.splice(at, 1);
      box.highestModseq = ++this.#modseq;
      box.vanished.push({ uid, modseq: box.highestModseq });
    }
    this.#changed();
  }

  watch(_account: ImapAccount, listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
