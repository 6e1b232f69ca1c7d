/**
 * A session's view of its selected mailbox: message sequence numbers, UIDs, flags and MODSEQs
 * as this client last heard of them, and the untagged responses that bring it up to date
 * (RFC 9051 §7.4 EXISTS/EXPUNGE, §7.5 FETCH; VANISHED with QRESYNC, RFC 7162 §3.2.10).
 */
import type { MailboxChanges, MailboxInfo, MessageState } from "./backend.ts";
import type { SearchContext } from "./search-context.ts";
import { contains, formatSequenceSet, type SequenceSet } from "./sequence-set.ts";

export interface UpdateOptions {
  /** False while answering FETCH, STORE or SEARCH (RFC 9051 §7.5.1: no EXPUNGE then). */
  allowExpunge: boolean;
  /** QRESYNC enabled: expunges are reported as VANISHED (RFC 7162 §3.2.10). */
  qresync: boolean;
  /** CONDSTORE enabled: flag updates carry MODSEQ (RFC 7162 §3.1.4.1). */
  condstore: boolean;
  /** False when flag changes are taken in silently (NOTIFY without FlagChange, RFC 5465 §5.1). */
  flags?: boolean;
  /** UIDs (after, upTo] this session just claimed as \Recent (RFC 3501 §2.3.2). */
  recent?: { after: number; upTo: number };
}

/**
 * Flag sets are interned: a mailbox of 10,000 messages has a handful of distinct sets, and
 * thousands of sessions may keep a view of it, so each message holds a shared frozen array.
 */
const INTERNED = new Map<string, readonly string[]>();
const INTERN_LIMIT = 50_000;

function intern(flags: readonly string[]): readonly string[] {
  const key = flags.join(" ");
  const hit = INTERNED.get(key);
  if (hit) return hit;
  const frozen = Object.freeze([...flags]);
  if (INTERNED.size < INTERN_LIMIT) INTERNED.set(key, frozen);
  return frozen;
}

export class MailboxView {
  mailbox: MailboxInfo;
  readonly readOnly: boolean;
  /** Parallel arrays in sequence-number order: UIDs ascending, their MODSEQs and flag sets. */
  #uids: number[];
  #modseqs: number[];
  #flags: Array<readonly string[]>;
  /** The highest MODSEQ this view has caught up with. */
  highestModseq: number;
  /** UIDs expunged elsewhere whose EXPUNGE could not be sent yet. */
  #pendingVanished = new Set<number>();
  /** The last SEARCH result saved with SAVE (RFC 5182), as UIDs. */
  saved: number[] = [];
  /** SEARCH and SORT results kept up to date (RETURN (UPDATE), RFC 5267 §4.3), by the command's tag. */
  readonly contexts = new Map<string, SearchContext>();
  /** A message came, went or changed since `takeStale` last looked: the contexts need a new look. */
  #stale = false;
  /** The flags the last FLAGS response listed, by lower-cased name (RFC 9051 §7.3.5). */
  #announced = new Map<string, string>();
  /**
   * IMAP4rev1 only (RFC 3501 §2.3.2; IMAP4rev2 has no \Recent): the UID ranges (after, upTo] this
   * session was given as recent. A range may name UIDs the view has not heard of yet.
   */
  #recent: Array<[number, number]> = [];
  readonly showRecent: boolean;

  constructor(mailbox: MailboxInfo, messages: readonly MessageState[], readOnly: boolean, showRecent = false) {
    this.mailbox = mailbox;
    this.readOnly = readOnly;
    this.showRecent = showRecent;
    this.#uids = messages.map((m) => m.uid);
    this.#modseqs = messages.map((m) => m.modseq);
    this.#flags = messages.map((m) => intern(m.flags));
    this.highestModseq = mailbox.highestModseq;
    this.announce(SYSTEM_FLAGS);
    for (const flags of new Set(this.#flags)) this.announce(flags);
  }

  /** The FLAGS response: the system flags and every keyword the mailbox uses (RFC 9051 §7.3.5). */
  flagsLine(): string {
    return `* FLAGS (${[...this.#announced.values()].join(" ")})\r\n`;
  }

  /**
   * A new FLAGS response when `flags` names a keyword the last one did not list, to go before
   * the response that shows it (RFC 9051 §7.3.5); nothing otherwise.
   */
  announce(flags: readonly string[]): string[] {
    let grew = false;
    for (const flag of flags) {
      if (this.#announced.has(flag.toLowerCase())) continue;
      this.#announced.set(flag.toLowerCase(), flag);
      grew = true;
    }
    return grew ? [this.flagsLine()] : [];
  }

  /** Records UIDs (after, upTo] as recent in this session. */
  addRecent(range: { after: number; upTo: number }): void {
    if (range.upTo > range.after) this.#recent.push([range.after, range.upTo]);
  }

  /** The highest UID this session holds a \Recent claim up to. */
  get recentClaimed(): number {
    return Math.max(0, ...this.#recent.map((r) => r[1]));
  }

  isRecent(uid: number): boolean {
    if (!this.showRecent) return false;
    for (const [after, upTo] of this.#recent) if (uid > after && uid <= upTo) return true;
    return false;
  }

  /** The RECENT response: how many messages are recent in this session (RFC 3501 §7.3.2). */
  recentLine(): string {
    let n = 0;
    if (this.#recent.length > 0) { for (const uid of this.#uids) if (this.isRecent(uid)) n++; }
    return `* ${n} RECENT\r\n`;
  }

  /** A message's flags as FETCH shows them, with \Recent in an IMAP4rev1 session. */
  flagList(uid: number, flags: readonly string[]): string {
    return `(${(this.isRecent(uid) ? [...flags, "\\Recent"] : flags).join(" ")})`;
  }

  get exists(): number {
    return this.#uids.length;
  }

  get uids(): readonly number[] {
    return this.#uids;
  }

  get maxUid(): number {
    return this.#uids.at(-1) ?? 0;
  }

  state(uid: number): MessageState | undefined {
    const seq = this.seqOf(uid);
    if (seq === 0) return undefined;
    return { uid, flags: this.#flags[seq - 1] as string[], modseq: this.#modseqs[seq - 1]! };
  }

  #has(uid: number): boolean {
    return this.seqOf(uid) !== 0;
  }

  /** 1-based sequence number of a UID (binary search), or 0. */
  seqOf(uid: number): number {
    let lo = 0;
    let hi = this.#uids.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const at = this.#uids[mid]!;
      if (at === uid) return mid + 1;
      if (at < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return 0;
  }

  /** The UIDs a set names, in ascending order: by sequence number or by UID. */
  resolve(set: SequenceSet, byUid: boolean): number[] {
    if (set.saved) return this.saved.filter((uid) => this.#has(uid));
    if (byUid) return this.#uids.filter((uid) => contains(set, uid, this.maxUid));
    return this.#uids.filter((_, i) => contains(set, i + 1, this.#uids.length));
  }

  /** True when a message-number set names a number beyond EXISTS (a BAD per RFC 9051 §9). */
  outOfRange(set: SequenceSet): boolean {
    if (set.saved) return false;
    return set.ranges.some((r) =>
      (r.start !== Infinity && r.start > this.exists) || (r.end !== Infinity && r.end > this.exists)
    );
  }

  /** True when messages changed since the last call (for the update contexts, RFC 5267 §4.3). */
  takeStale(): boolean {
    const stale = this.#stale;
    this.#stale = false;
    return stale;
  }

  /**
   * Records flags this session itself just stored, so the refresh does not echo them back.
   * Returns the message's sequence number (0: not in the view).
   */
  setState(state: MessageState): number {
    const seq = this.seqOf(state.uid);
    if (seq !== 0) {
      this.#stale = true;
      this.#flags[seq - 1] = intern(state.flags);
      this.#modseqs[seq - 1] = state.modseq;
    }
    this.highestModseq = Math.max(this.highestModseq, state.modseq);
    return seq;
  }

  /** Applies changes from the change log and returns the untagged responses announcing them. */
  update(changes: MailboxChanges | null, options: UpdateOptions): string[] {
    const out: string[] = [];
    const announced: string[] = [];
    let added = false;
    if (options.recent) this.addRecent(options.recent);
    if (changes) {
      for (const uid of changes.vanished) {
        if (this.#has(uid)) {
          this.#pendingVanished.add(uid);
          this.#stale = true;
        }
      }
      for (const change of changes.changed) {
        if (this.#pendingVanished.has(change.uid)) continue;
        const known = this.state(change.uid);
        if (!known) {
          if (change.uid > this.maxUid) {
            this.#uids.push(change.uid);
            this.#modseqs.push(change.modseq);
            this.#flags.push(intern(change.flags));
            const grew = this.announce(change.flags);
            if (grew.length) announced.splice(0, announced.length, ...grew);
            added = true;
            this.#stale = true;
          }
          continue;
        }
        if (change.modseq <= known.modseq) continue;
        const flagsChanged = change.flags.length !== known.flags.length ||
          change.flags.some((f) => !known.flags.includes(f));
        this.setState(change);
        const grew = this.announce(change.flags);
        if (grew.length) announced.splice(0, announced.length, ...grew);
        if ((flagsChanged || options.condstore) && options.flags !== false) {
          const modseq = options.condstore ? ` MODSEQ (${change.modseq})` : "";
          out.push(
            `* ${this.seqOf(change.uid)} FETCH (UID ${change.uid} FLAGS ${
              this.flagList(change.uid, change.flags)
            }${modseq})\r\n`,
          );
        }
      }
      // The newest FLAGS response lists them all; it goes before the responses that use them.
      out.unshift(...announced);
      this.mailbox = changes.mailbox;
    }
    if (options.allowExpunge && this.#pendingVanished.size > 0) out.push(...this.#expunge(options.qresync));
    // EXISTS goes last, after the expunges: a MOVE within the selected mailbox reads as the
    // originals leaving, then the mailbox growing (as Dovecot orders it; RFC 9051 §7.4 allows
    // either). The FETCHes above use sequence numbers from before both.
    if (added) {
      out.push(`* ${this.#uids.length} EXISTS\r\n`);
      // RFC 3501 §7.3.2: RECENT follows EXISTS when the mailbox grew.
      if (this.showRecent) out.push(this.recentLine());
    }
    // Expunges not yet announced stay in #pendingVanished, so the MODSEQ may move past them.
    if (changes) this.highestModseq = Math.max(this.highestModseq, changes.mailbox.highestModseq);
    return out;
  }

  /** UIDs expunged elsewhere that the next update may announce. */
  get pendingVanished(): ReadonlySet<number> {
    return this.#pendingVanished;
  }

  #expunge(qresync: boolean): string[] {
    const gone = [...this.#pendingVanished].sort((a, b) => a - b);
    this.#pendingVanished.clear();
    const out: string[] = [];
    if (qresync) out.push(`* VANISHED ${formatSequenceSet(gone)}\r\n`);
    // Highest sequence number first, so each number is right when the client reads it.
    for (const uid of [...gone].reverse()) {
      const seq = this.seqOf(uid);
      if (seq === 0) continue;
      this.#uids.splice(seq - 1, 1);
      this.#modseqs.splice(seq - 1, 1);
      this.#flags.splice(seq - 1, 1);
      if (!qresync) out.push(`* ${seq} EXPUNGE\r\n`);
    }
    return out;
  }
}

const SYSTEM_FLAGS = ["\\Answered", "\\Flagged", "\\Deleted", "\\Seen", "\\Draft"];
