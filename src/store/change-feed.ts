/**
 * Notifications of committed changes. Delivery, IMAP, POP3 and JMAP never call each other: a
 * writer publishes after its commit, and sessions that care re-read the change log from the
 * last MODSEQ they saw (STYLE.md rule 8).
 */
export interface ChangeEvent {
  accountId: number;
  /** The mailboxes touched; empty for account-wide changes. */
  mailboxIds: number[];
  /** The newest change-log id (MODSEQ) of the commit. */
  modseq: number;
}

type Listener = (event: ChangeEvent) => void;

export class ChangeFeed {
  #listeners = new Map<number, Set<Listener>>();
  /** The newest MODSEQ published per account, so a change seen twice is told once. */
  #published = new Map<number, number>();

  /** Whether anyone listens at all. */
  get listening(): boolean {
    return this.#listeners.size > 0;
  }

  /** Subscribes to one account's changes; returns the unsubscribe function. */
  subscribe(accountId: number, listener: Listener): () => void {
    let set = this.#listeners.get(accountId);
    if (!set) this.#listeners.set(accountId, set = new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(accountId);
    };
  }

  publish(event: ChangeEvent): void {
    if (event.modseq > (this.#published.get(event.accountId) ?? 0)) this.#published.set(event.accountId, event.modseq);
    for (const listener of this.#listeners.get(event.accountId) ?? []) {
      try {
        listener(event);
      } catch (e) {
        console.error("change listener failed:", e);
      }
    }
  }

  /**
   * Publishes a change another process committed (store/change-watch.ts), unless this process
   * already published it or a later one of the account.
   */
  publishIfNewer(event: ChangeEvent): void {
    if (event.modseq > (this.#published.get(event.accountId) ?? 0)) this.publish(event);
  }
}
