/**
 * The store: one libSQL database behind small repositories. Writes go through `write()`, which
 * runs them one at a time in a transaction: SQLite has a single writer, and the embedded driver
 * blocks its thread while it waits for the lock, so two overlapping write transactions from this
 * process would stall each other.
 */
import type { Client } from "@libsql/client";
import { AccountRepository } from "./accounts.ts";
import { AliasRepository } from "./aliases.ts";
import { type Db, type DatabaseOptions, openDatabase, type Tx } from "./db.ts";
import { DomainRepository } from "./domains.ts";
import { MailboxRepository } from "./mailboxes.ts";
import { MessageRepository } from "./messages.ts";
import { migrate, type MigrationResult } from "./migrate.ts";
import { ChangeFeed } from "./change-feed.ts";

export class Store {
  readonly domains: DomainRepository;
  readonly accounts: AccountRepository;
  readonly aliases: AliasRepository;
  readonly mailboxes: MailboxRepository;
  readonly messages: MessageRepository;
  /** Committed changes, for IMAP IDLE, JMAP push and POP3/IMAP coexistence. */
  readonly changes = new ChangeFeed();
  #writing: Promise<unknown> = Promise.resolve();

  private constructor(
    readonly client: Client,
    readonly db: Db,
  ) {
    this.domains = new DomainRepository(this);
    this.accounts = new AccountRepository(this);
    this.aliases = new AliasRepository(this);
    this.mailboxes = new MailboxRepository(this);
    this.messages = new MessageRepository(this);
  }

  static async open(options: DatabaseOptions): Promise<Store> {
    const { client, db } = await openDatabase(options);
    return new Store(client, db);
  }

  migrate(): Promise<MigrationResult> {
    return migrate(this.client);
  }

  /** Runs `fn` in a write transaction, after every earlier write has finished. */
  write<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    const run = this.#writing.then(() => this.db.transaction(fn));
    this.#writing = run.catch(() => undefined);
    return run;
  }

  close(): void {
    this.client.close();
  }
}
