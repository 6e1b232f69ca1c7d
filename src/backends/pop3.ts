/**
 * The POP3 maildrop over the store: a snapshot of the INBOX at login, locked against a second
 * POP3 session of the same account (RFC 1939 §8), with RETR's \Seen and QUIT's deletions
 * written through the change log so IMAP and JMAP sessions see them.
 *
 * The lock lives in this process: several Postern processes sharing one libSQL server each
 * keep their own.
 */
import type { AuthThrottle } from "../auth/throttle.ts";
import type { Maildrop, Pop3Account, Pop3Backend, Pop3Peer } from "../pop3/backend.ts";
import type { Store } from "../store/store.ts";
import { checkPassword } from "./password.ts";

export class StorePop3Backend implements Pop3Backend {
  #locked = new Set<number>();

  constructor(
    private readonly store: Store,
    private readonly throttle: AuthThrottle,
  ) {}

  authenticate(username: string, password: string, peer: Pop3Peer): Promise<Pop3Account | null> {
    return checkPassword(this.store, this.throttle, username, password, peer.remoteAddress);
  }

  async openMaildrop(account: Pop3Account): Promise<Maildrop | "in-use"> {
    if (this.#locked.has(account.id)) return "in-use";
    this.#locked.add(account.id);
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
        release: () => {
          if (released) return;
          released = true;
          this.#locked.delete(account.id);
        },
      };
    } catch (e) {
      this.#locked.delete(account.id);
      throw e;
    }
  }
}
