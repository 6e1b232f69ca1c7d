/**
 * What the IMAP session needs from the rest of Postern, as an interface it is given.
 * `src/backends/imap.ts` implements it over the store; every write resolves after its commit.
 */
import type { Banned } from "../auth/login.ts";
import type { MessageSummary } from "../mime/summary.ts";
import type { TlsInfo } from "../connection.ts";

export interface ImapAccount {
  id: number;
  address: string;
}

export interface MailboxInfo {
  id: number;
  name: string;
  /** "inbox" or an RFC 6154 attribute such as "\\Sent". */
  role: string | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** The highest UID some IMAP4rev1 session was already shown as \Recent. */
  recentUid: number;
  /** OBJECTID MAILBOXID (RFC 8474 §4): the JMAP Mailbox id. */
  objectId: string;
}

/** The per-message state a selected mailbox keeps in memory. */
export interface MessageState {
  uid: number;
  flags: string[];
  modseq: number;
}

export interface MessageMeta extends MessageState {
  size: number;
  internalDate: Date;
}

/** A message with its stored summary and its OBJECTID ids (RFC 8474 §5: the JMAP Email and Thread ids). */
export interface StoredMessage extends MessageMeta {
  summary: MessageSummary;
  emailId: string;
  threadId: string;
}

/** What changed in a mailbox since a MODSEQ, from the change log. */
export interface MailboxChanges {
  mailbox: MailboxInfo;
  /** Messages created or whose flags changed, with their current state. */
  changed: MessageState[];
  /** UIDs expunged since. */
  vanished: number[];
}

export type WriteResult<T> = { ok: true; value: T } | {
  ok: false;
  code: "NONEXISTENT" | "ALREADYEXISTS" | "CANNOT" | "TOOBIG" | "LIMIT" | "OVERQUOTA";
  message: string;
};

export interface ImapBackend {
  authenticate(
    username: string,
    password: string,
    peer: { remoteAddress: string; tls: TlsInfo | null },
  ): Promise<ImapAccount | null | Banned>;
  mailboxes(account: ImapAccount): Promise<MailboxInfo[]>;
  /** Every message of a mailbox, in UID order, with sizes and dates (STATUS DELETED-STORAGE). */
  messages(mailboxId: number): Promise<MessageMeta[]>;
  /** Every message's UID, flags and MODSEQ, in UID order: all SELECT needs. */
  states(mailboxId: number): Promise<MessageState[]>;
  changesSince(mailboxId: number, modseq: number): Promise<MailboxChanges | null>;
  /** Stored summaries (ENVELOPE, BODYSTRUCTURE come from here, never from reparsing). */
  summaries(mailboxId: number, uids: readonly number[]): Promise<Map<number, StoredMessage>>;
  raw(mailboxId: number, uid: number): Promise<Uint8Array | null>;
  /** SAVEDATE (RFC 8514): when each message was saved into this mailbox. */
  saveDates(mailboxId: number, uids: readonly number[]): Promise<Map<number, Date>>;
  /** Raw messages of several UIDs in one query (FETCH BODY[] and SEARCH TEXT over many messages). */
  raws(mailboxId: number, uids: readonly number[]): Promise<Map<number, Uint8Array>>;
  /** Messages with size, dates and the sum of sizes (STATUS SIZE). */
  status(mailboxId: number): Promise<{ messages: number; unseen: number; size: number; deleted: number }>;

  createMailbox(account: ImapAccount, name: string, specialUse: string | null): Promise<WriteResult<MailboxInfo>>;
  deleteMailbox(account: ImapAccount, mailboxId: number): Promise<WriteResult<null>>;
  renameMailbox(account: ImapAccount, mailboxId: number, to: string): Promise<WriteResult<null>>;
  /** The account's subscribed names, whether or not mailboxes have them (RFC 9051 §6.3.7). */
  subscriptions(account: ImapAccount): Promise<string[]>;
  subscribe(account: ImapAccount, name: string, subscribed: boolean): Promise<void>;
  /**
   * Claims the mailbox's messages no IMAP4rev1 session was shown as \Recent yet: the UIDs above
   * `after` up to `upTo` are recent for this session alone (RFC 3501 §2.3.2).
   */
  claimRecent(mailboxId: number): Promise<{ after: number; upTo: number }>;
  /** The account's storage quota in bytes (null: none) and its usage (RFC 9208). */
  quota(account: ImapAccount): Promise<{ limit: number | null; used: number }>;
  /** How many messages no IMAP4rev1 session has claimed as \Recent yet (STATUS RECENT). */
  unclaimedRecent(mailbox: MailboxInfo): Promise<number>;
  /** APPEND and MULTIAPPEND (RFC 3502): every message, in order, in one transaction, or none. */
  append(
    account: ImapAccount,
    mailboxId: number,
    messages: ReadonlyArray<{ message: Uint8Array; flags: string[]; date: Date | null }>,
  ): Promise<WriteResult<{ uidValidity: number; uids: number[] }>>;
  store(
    mailboxId: number,
    uids: readonly number[],
    mode: "set" | "add" | "remove",
    flags: readonly string[],
    unchangedSince: number | null,
  ): Promise<{ updated: MessageState[]; unchanged: MessageState[]; modified: number[] }>;
  /** "overQuota" when the copies would take the account over its quota (nothing copied). */
  copy(
    mailboxId: number,
    uids: readonly number[],
    targetId: number,
  ): Promise<{ uidValidity: number; source: number[]; destination: number[] } | "overQuota">;
  /** COPY then EXPUNGE of the source, in one transaction (RFC 6851). */
  move(
    mailboxId: number,
    uids: readonly number[],
    targetId: number,
  ): Promise<{ uidValidity: number; source: number[]; destination: number[] }>;
  expunge(mailboxId: number, uids: readonly number[]): Promise<void>;
  /** Calls `listener` after any commit that touched the account; returns the unsubscribe function. */
  watch(account: ImapAccount, listener: () => void): () => void;
}
