/**
 * What the POP3 session needs from the rest of Postern: password checks and a locked snapshot
 * of the account's INBOX (RFC 1939 §3 "maildrop"). `src/backends/pop3.ts` implements it over
 * the store; tests implement it in memory.
 */
import type { Banned } from "../auth/login.ts";
import type { TlsInfo } from "../connection.ts";

export interface Pop3Account {
  id: number;
  address: string;
}

export interface MaildropMessage {
  /** RFC 1939 §7 unique-id: stable across sessions, the same whichever protocol looks. */
  uidl: string;
  /** Octets as RETR sends them (before dot-stuffing). */
  size: number;
}

export interface Maildrop {
  /** The INBOX as it was at login; message n is `messages[n - 1]` for the whole session. */
  readonly messages: readonly MaildropMessage[];
  read(index: number): Promise<Uint8Array>;
  /** RETR marks the message \Seen. */
  markSeen(index: number): Promise<void>;
  /** The UPDATE state (RFC 1939 §6): removes these messages in one transaction. */
  commit(deleted: readonly number[]): Promise<void>;
  /** Unlocks the maildrop; called however the session ends. Settles once it is unlocked. */
  release(): Promise<void> | void;
}

export interface Pop3Peer {
  remoteAddress: string;
  tls: TlsInfo | null;
}

export interface Pop3Backend {
  authenticate(username: string, password: string, peer: Pop3Peer): Promise<Pop3Account | null | Banned>;
  /** "in-use" when another POP3 session holds this account's maildrop. */
  openMaildrop(account: Pop3Account): Promise<Maildrop | "in-use">;
}
