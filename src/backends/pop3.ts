/**
 * The POP3 maildrop over the store: a snapshot of the INBOX at login, locked against a second
 * POP3 session of the same account (RFC 1939 §8), with RETR's \Seen and QUIT's deletions
 * written through the change log so IMAP and JMAP sessions see them.
 *
 * The lock is in the database (store/maildrop-locks.ts), so it holds across every process that
 * shares it; this backend renews its locks while it holds any, and a process that dies lets its
 * locks lapse after LOCK_MS.
 */
import type { Banned } from "../auth/login.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import type { Maildrop, Pop3Account, Pop3Backend, Pop3Peer } from "../pop3/backend.ts";
import type { Store } from "../store/store.ts";
import { ownerIsGone } from "../util/owner.ts";
import { checkPassword } from "./password.ts";

/** How long a lock holds without renewal; renewed at a third of that. */
const LOCK_MS = 90_000;

export class StorePop3Backend implements Pop3Backend {
  #held = new Map<number, string>();
  #sessions = 0;
  #renewal: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly store: Store,
    private readonly throttle: AuthThrottle,
  ) {}

  authenticate(username: string, password: string, peer: Pop3Peer): Promise<Pop3Account | null | Banned> {
    return checkPassword(this.store, this.throttle, username, password, peer.remoteAddress);
  }

  async openMaildrop(account: Pop3Account): Promise<Maildrop | "in-use"> {
    const owner = `${this.store.instanceId}#${++this.#sessions}`;
    if (!(await this.#take(account.id, owner))) return "in-use";
    this.#hold(account.id, owner);
    try {
      const inbox = await this.store.mailboxes.byRole(account.id, "inbox");
      if (!inbox) throw new Error(`Account ${account.address} has no INBOX`);
      const rows = await this.store.messages.list(inbox.id);
      const store = this.store;
      let released = false;
      return {
        // UIDVALIDITY.UID: stable across sessions and the same message IMAP shows with that UID.
        messages: rows.map((r) => ({ uidl: `${inbox.uidValidity}.${r.uid}`, size: r.size })),
        async read(index) {
          const bytes = await store.messages.raw(inbox.id, rows[index]!.uid);
          if (!bytes) throw new Error("The message is gone");
          return bytes;
        },
        async markSeen(index) {
          await store.mail.storeFlags(inbox.id, [rows[index]!.uid], "add", ["\\Seen"]);
        },
        async commit(deleted) {
          await store.mail.expunge(inbox.id, deleted.map((i) => rows[i]!.uid));
        },
        release: async () => {
          if (released) return;
          released = true;
          await this.#release(account.id, owner);
        },
      };
    } catch (e) {
      await this.#release(account.id, owner);
      throw e;
    }
  }

  async #take(accountId: number, owner: string): Promise<boolean> {
    const until = () => new Date(Date.now() + LOCK_MS);
    if (await this.store.maildrops.take(accountId, owner, until())) return true;
    // A lock left by a process of this host that has since died (a restart) need not lapse first.
    const holder = await this.store.maildrops.holder(accountId);
    return holder !== undefined && ownerIsGone(holder.owner) &&
      this.store.maildrops.take(accountId, owner, until(), holder.owner);
  }

  #hold(accountId: number, owner: string): void {
    this.#held.set(accountId, owner);
    this.#renewal ??= setInterval(() => {
      this.store.maildrops.renew(`${this.store.instanceId}#`, new Date(Date.now() + LOCK_MS)).catch(() => {});
    }, LOCK_MS / 3);
  }

  async #release(accountId: number, owner: string): Promise<void> {
    if (this.#held.get(accountId) === owner) this.#held.delete(accountId);
    if (this.#held.size === 0) {
      clearInterval(this.#renewal);
      this.#renewal = undefined;
    }
    // A lock that cannot be deleted now (the database is failing) lapses after LOCK_MS.
    await this.store.maildrops.release(accountId, owner).catch(() => {});
  }
}
