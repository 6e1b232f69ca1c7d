/**
 * The store: one libSQL database behind small repositories. Writes go through `write()`, which
 * runs them one at a time: SQLite has a single writer, and the embedded driver blocks its thread
 * while it waits for the lock, so two overlapping write transactions from this process would
 * stall each other.
 *
 * Group commit: writes that queue up while a transaction is committing run together in the next
 * one, each inside its own savepoint, so one failing write rolls back alone. Every caller's
 * promise settles only after the shared COMMIT, so durability before acknowledgement holds, and
 * a busy server pays one fsync per batch instead of one per message.
 */
import type { Client } from "@libsql/client";
import { AccountRepository } from "./accounts.ts";
import { AliasRepository } from "./aliases.ts";
import { type Db, type DatabaseOptions, openDatabase, type Tx } from "./db.ts";
import { DomainRepository } from "./domains.ts";
import { MailboxRepository } from "./mailboxes.ts";
import { MessageRepository } from "./messages.ts";
import { migrate, type MigrationResult } from "./migrate.ts";
import { TokenRepository } from "./tokens.ts";
import { ChangeFeed } from "./change-feed.ts";

interface PendingWrite {
  fn: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** Writes committed together at most; bounds the latency one batch adds to its last member. */
const MAX_BATCH = 64;

export class Store {
  readonly domains: DomainRepository;
  readonly accounts: AccountRepository;
  readonly aliases: AliasRepository;
  readonly mailboxes: MailboxRepository;
  readonly messages: MessageRepository;
  readonly tokens: TokenRepository;
  /** Committed changes, for IMAP IDLE, JMAP push and POP3/IMAP coexistence. */
  readonly changes = new ChangeFeed();
  #queue: PendingWrite[] = [];
  #draining = false;

  private constructor(
    readonly client: Client,
    readonly db: Db,
  ) {
    this.domains = new DomainRepository(this);
    this.accounts = new AccountRepository(this);
    this.aliases = new AliasRepository(this);
    this.mailboxes = new MailboxRepository(this);
    this.messages = new MessageRepository(this);
    this.tokens = new TokenRepository(this);
  }

  static async open(options: DatabaseOptions): Promise<Store> {
    const { client, db } = await openDatabase(options);
    return new Store(client, db);
  }

  migrate(): Promise<MigrationResult> {
    return migrate(this.client);
  }

  /** Runs `fn` in a write transaction after every earlier write; settles once it has committed. */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
      try {
        await this.db.transaction(
          async (tx) => {
            for (const write of batch) {
              try {
                // A single write needs no savepoint; in a batch each gets its own.
                const value = batch.length === 1 ? await write.fn(tx) : await tx.transaction((inner) => write.fn(inner));
                outcomes.push({ ok: true, value });
              } catch (error) {
                if (batch.length === 1) throw error;
                outcomes.push({ ok: false, error });
              }
            }
          },
          { behavior: "immediate" },
        );
      } catch (error) {
        for (const write of batch) write.reject(error);
        continue;
      }
      batch.forEach((write, i) => {
        const outcome = outcomes[i]!;
        if (outcome.ok) write.resolve(outcome.value);
        else write.reject(outcome.error);
      });
    }
    this.#draining = false;
  }

  close(): void {
    this.client.close();
  }
}
