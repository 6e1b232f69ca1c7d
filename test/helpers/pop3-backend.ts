/**
 * A POP3 backend in memory for the session tests: the account alice / secret, a fixed maildrop,
 * and a record of what the session did to it (RETR's \Seen, UPDATE's deletions, the lock).
 */
import type { Maildrop, Pop3Account, Pop3Backend } from "../../src/pop3/backend.ts";

export interface MemoryPop3Options {
  /** UIDL of message `i` (0-based). */
  uidl?: (i: number) => string;
  /** Reading this message fails, as a store can. */
  unreadable?: number;
}

export class MemoryPop3Backend implements Pop3Backend {
  locked = false;
  committed: number[][] = [];
  seen: number[] = [];
  released = 0;

  constructor(
    readonly messages: readonly Uint8Array[],
    private readonly options: MemoryPop3Options = {},
  ) {}

  async authenticate(username: string, password: string): Promise<Pop3Account | null> {
    return username === "alice" && password === "secret" ? { id: 1, address: "alice" } : null;
  }

  async openMaildrop(): Promise<Maildrop | "in-use"> {
    if (this.locked) return "in-use";
    this.locked = true;
    const uidl = this.options.uidl ?? ((i: number) => `u${i + 1}`);
    return {
      messages: this.messages.map((m, i) => ({ uidl: uidl(i), size: m.length })),
      read: async (i) => {
        if (i === this.options.unreadable) throw new Error("store unavailable");
        return this.messages[i]!;
      },
      markSeen: async (i) => void this.seen.push(i),
      commit: async (deleted) => void this.committed.push([...deleted]),
      release: () => {
        this.locked = false;
        this.released++;
      },
    };
  }
}
