/**
 * IMAP commands as values (RFC 9051 §6, with CONDSTORE/QRESYNC RFC 7162, LIST-EXTENDED RFC 5258,
 * SPECIAL-USE RFC 6154, UIDPLUS RFC 4315, MOVE RFC 6851, ESEARCH RFC 4731, SORT and THREAD RFC 5256).
 */
import type { NotifySet } from "./notify.ts";
import type { SearchKey } from "./search.ts";
import type { SequenceSet } from "./sequence-set.ts";
import type { SortCriterion } from "./sort.ts";

/** A section of BODY[...] / BINARY[...] (RFC 9051 §6.4.5). */
export interface Section {
  /** Part numbers, e.g. [1, 2] for "1.2"; empty for the whole message. */
  part: number[];
  text: "HEADER" | "HEADER.FIELDS" | "HEADER.FIELDS.NOT" | "TEXT" | "MIME" | null;
  fields?: string[];
}

export type FetchItem =
  | { item: "FLAGS" | "INTERNALDATE" | "RFC822.SIZE" | "ENVELOPE" | "BODYSTRUCTURE" | "BODY" | "UID" | "MODSEQ" }
  /** OBJECTID (RFC 8474 §5) and PREVIEW (RFC 8970; LAZY changes nothing, the preview is stored). */
  | { item: "EMAILID" | "THREADID" | "PREVIEW" }
  /** SAVEDATE (RFC 8514). */
  | { item: "SAVEDATE" }
  | { item: "RFC822" | "RFC822.HEADER" | "RFC822.TEXT" }
  | { item: "BODY[]"; section: Section; peek: boolean; partial?: { offset: number; length: number } }
  | { item: "BINARY[]"; section: Section; peek: boolean; partial?: { offset: number; length: number } }
  | { item: "BINARY.SIZE"; section: Section };

export type StoreMode = "set" | "add" | "remove";

export type ImapCommand =
  & { tag: string; uid: boolean }
  & (
    | { name: "CAPABILITY" | "NOOP" | "LOGOUT" | "STARTTLS" | "NAMESPACE" | "IDLE" | "CHECK" | "CLOSE" | "UNSELECT" }
    | { name: "LOGIN"; username: string; password: string }
    | { name: "AUTHENTICATE"; mechanism: string; initialResponse?: string }
    | { name: "ENABLE"; capabilities: string[] }
    /** NOTIFY SET or, with `set` null, NOTIFY NONE (RFC 5465 §3). */
    | { name: "NOTIFY"; set: NotifySet | null }
    /** COMPRESS (RFC 4978 §3). */
    | { name: "COMPRESS"; mechanism: string }
    | { name: "ID"; params: Record<string, string | null> | null }
    | { name: "SELECT" | "EXAMINE"; mailbox: string; condstore: boolean; qresync?: Qresync }
    | { name: "CREATE"; mailbox: string; specialUse: string[] }
    | { name: "DELETE"; mailbox: string }
    | { name: "SUBSCRIBE" | "UNSUBSCRIBE"; mailbox: string }
    | { name: "RENAME"; from: string; to: string }
    | { name: "LIST"; reference: string; patterns: string[]; selectOptions: string[]; returnOptions: ListReturn }
    | { name: "LSUB"; reference: string; pattern: string }
    | { name: "STATUS"; mailbox: string; items: string[] }
    /** One message, or several with MULTIAPPEND (RFC 3502). */
    | { name: "APPEND"; mailbox: string; messages: AppendMessage[] }
    | { name: "EXPUNGE"; uids: SequenceSet | null }
    /** `partial`: RETURN (PARTIAL first:last), CONTEXT=SEARCH (RFC 5267 §4.4). */
    | {
      name: "SEARCH";
      returnOptions: string[] | null;
      partial: PartialRange | null;
      charset: string | null;
      key: SearchKey;
    }
    /** RFC 5256 SORT; RETURN options are ESORT (RFC 5267 §3) and CONTEXT=SORT (§4). */
    | {
      name: "SORT";
      returnOptions: string[] | null;
      partial: PartialRange | null;
      criteria: SortCriterion[];
      charset: string;
      key: SearchKey;
    }
    /** RFC 5267 §4.3.5: stop the updates of the searches with these tags. */
    | { name: "CANCELUPDATE"; tags: string[] }
    | { name: "THREAD"; algorithm: "ORDEREDSUBJECT" | "REFERENCES"; charset: string; key: SearchKey }
    | { name: "FETCH"; set: SequenceSet; items: FetchItem[]; changedSince: number | null; vanished: boolean }
    | {
      name: "STORE";
      set: SequenceSet;
      mode: StoreMode;
      silent: boolean;
      flags: string[];
      unchangedSince: number | null;
    }
    | { name: "COPY" | "MOVE"; set: SequenceSet; mailbox: string }
    /** QUOTA (RFC 9208 §4): a quota root, a mailbox's roots, or an attempt to set limits. */
    | { name: "GETQUOTA"; root: string }
    | { name: "GETQUOTAROOT"; mailbox: string }
    | { name: "SETQUOTA"; root: string; limits: Array<{ resource: string; limit: number }> }
  );

/** A range of result positions, 1-based, `first` ≤ `last` (RFC 5267 §4.4: 500:400 is 400:500). */
export interface PartialRange {
  first: number;
  last: number;
}

export interface AppendMessage {
  flags: string[];
  date: Date | null;
  /** The message, or with CATENATE (RFC 4469) the parts to make it of. */
  message: Uint8Array | CatenatePart[];
}

/** RFC 4469 §5: cat-part = text-literal / url. */
export type CatenatePart = { kind: "text"; bytes: Uint8Array } | { kind: "url"; url: string };

export interface Qresync {
  uidValidity: number;
  modseq: number;
  knownUids: SequenceSet | null;
}

export interface ListReturn {
  subscribed: boolean;
  children: boolean;
  specialUse: boolean;
  /** LIST-STATUS (RFC 5819): STATUS items to return per mailbox. */
  status: string[] | null;
}
