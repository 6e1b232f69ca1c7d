/**
 * The store: one libSQL database behind small repositories. Writes go through `write()`, which
 * runs them one at a time: SQLite has a single writer, and the embedded driver blocks its thread
 * while it waits for the lock, so two overlapping write transactions from this process would
 * stall each other.
 *
 * Group commit: writes that queue up while a transaction is committing run together in the next
 * one; one failing write fails alone (see `#run`). Every caller's
 * promise settles only after the shared COMMIT, so durability before acknowledgement holds, and
 * a busy server pays one fsync per batch instead of one per message. The fsync runs off the
 * JavaScript thread (db.ts `syncWal`), so sessions keep being served while it waits for the disk.
 */
import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { Client } from "@libsql/client";
import { AccountRepository } from "./accounts.ts";
import { AliasRepository } from "./aliases.ts";
import { type DatabaseOptions, type Db, openDatabase, type StoreStats, syncWal, type Tx } from "./db.ts";
import { log } from "../util/log.ts";
import { DomainRepository } from "./domains.ts";
import { MailboxRepository } from "./mailboxes.ts";
import { MaildropLocks } from "./maildrop-locks.ts";
import { MessageRepository } from "./messages.ts";
import { migrate, type MigrationResult } from "./migrate.ts";
import { TokenRepository } from "./tokens.ts";
import { WebSessionRepository } from "./web-sessions.ts";
import { type ChangeEvent, ChangeFeed } from "./change-feed.ts";
import { ChangeIds, ChangeLogReader, ChangeRecorder } from "./change-log.ts";
import { ChangeWatcher } from "./change-watch.ts";
import { EmailRepository } from "./emails.ts";
import { MailStore } from "./mail-store.ts";
import { PolicyStateRepository } from "./policy-state.ts";
import { holdConnection } from "./prepared.ts";
import { Checkpointer } from "./checkpointer.ts";
import { addConnectionSetting } from "./connections.ts";
import { IdentityRepository } from "./identities.ts";
import { SubmissionRepository } from "./submissions.ts";
import { VacationRepository } from "./vacation.ts";
import { PushSubscriptionRepository } from "./push-subscriptions.ts";
import { SieveScriptRepository } from "./sieve-scripts.ts";
import { QueueRepository } from "./queue.ts";
import { SummaryReindexer } from "./reindex.ts";
import { ImapStateStore } from "./subscriptions.ts";
import { storageTotals } from "./quota.ts";

/** A write: the transaction, and the recorder through which it logs (and so publishes) changes. */
export type WriteFn<T> = (tx: Tx, changes: ChangeRecorder) => Promise<T>;

type Outcome = { ok: true; value: unknown; events: ChangeEvent[] } | { ok: false; error: unknown };

interface PendingWrite {
  fn: WriteFn<unknown>;
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
  /** Webmail sign-ins (issue 22). */
  readonly webSessions: WebSessionRepository;
  readonly emails: EmailRepository;
  /** Every write to mail: append, deliver, copy, move, expunge, flags, mailboxes. */
  readonly mail: MailStore;
  readonly queue: QueueRepository;
  readonly policy: PolicyStateRepository;
  /** JMAP Identity, EmailSubmission and VacationResponse objects. */
  readonly identities: IdentityRepository;
  readonly submissions: SubmissionRepository;
  readonly vacation: VacationRepository;
  /** JMAP PushSubscriptions (RFC 8620 §7.2). */
  readonly pushSubscriptions: PushSubscriptionRepository;
  /** Per-account Sieve scripts (issue 21). */
  readonly sieve: SieveScriptRepository;
  /** POP3 maildrop locks shared by every process on the database. */
  readonly maildrops: MaildropLocks;
  /** Recomputes summaries stored by an older build (`postern reindex`, and at `serve`). */
  readonly summaries: SummaryReindexer;
  /** Reads of the change log (JMAP states and /changes, IMAP CONDSTORE). */
  readonly changeLog: ChangeLogReader;
  /** IMAP subscriptions and \Recent claims. */
  readonly imap: ImapStateStore;
  /**
   * Committed changes, for IMAP IDLE, JMAP push, POP3/IMAP coexistence and `onMessage`. Only the
   * store publishes here, after the commit of the transaction that logged them.
   */
  readonly changes = new ChangeFeed();
  /**
   * This process among those sharing the database: the owner named on queue leases and maildrop
   * locks (host, pid and a random part, so a restarted process with the same pid is another owner).
   */
  readonly instanceId = `${hostname()}:${process.pid}:${randomBytes(4).toString("hex")}`;
  readonly #client: Client;
  readonly #db: Db;
  readonly #walPath: string | null;
  #queue: PendingWrite[] = [];
  #directoryVersion = 0;
  readonly #watcher: ChangeWatcher;
  #draining = false;
  #checkpointer: Checkpointer | null = null;

  readonly #stats: StoreStats;

  private constructor(client: Client, db: Db, stats: StoreStats, walPath: string | null) {
    this.#client = client;
    this.#walPath = walPath;
    this.#stats = stats;
    this.#db = db;
    this.domains = new DomainRepository(this, db);
    this.accounts = new AccountRepository(this, db);
    this.aliases = new AliasRepository(this, db);
    this.mailboxes = new MailboxRepository(this, db);
    this.messages = new MessageRepository(this, db);
    this.tokens = new TokenRepository(this, db);
    this.webSessions = new WebSessionRepository(this, db);
    this.emails = new EmailRepository(this, db);
    this.mail = new MailStore(this, db);
    this.queue = new QueueRepository(this, db);
    this.policy = new PolicyStateRepository(this, db);
    this.identities = new IdentityRepository(this, db);
    this.submissions = new SubmissionRepository(this, db);
    this.vacation = new VacationRepository(this, db);
    this.pushSubscriptions = new PushSubscriptionRepository(this, db);
    this.sieve = new SieveScriptRepository(this, db);
    this.maildrops = new MaildropLocks(this, db);
    this.summaries = new SummaryReindexer(this, db);
    this.changeLog = new ChangeLogReader(db);
    this.imap = new ImapStateStore(this, db);
    this.#watcher = new ChangeWatcher(db, this.changes);
  }

  static async open(options: DatabaseOptions): Promise<Store> {
    const { client, db, stats, walPath } = await openDatabase(options);
    return new Store(client, db, stats, walPath);
  }

  async migrate(): Promise<MigrationResult> {
    const result = await migrate(this.#client);
    await this.#durable();
    return result;
  }

  /**
   * Runs `fn` in a write transaction after every earlier write; settles once it has committed,
   * after the changes it logged were published. Only code in src/store/ calls it.
   */
  write<T>(fn: WriteFn<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  /**
   * A write to domains, accounts or aliases: as `write`, and afterwards `directoryVersion` moves on,
   * so this process's directory lookups cached before it are not used again.
   */
  async writeDirectory<T>(fn: WriteFn<T>): Promise<T> {
    try {
      return await this.write(fn);
    } finally {
      this.#directoryVersion++;
    }
  }

  /** The database's size and the bytes of every account's mail, for /metrics (issue 20). */
  storageTotals(): Promise<{ databaseBytes: number; mailBytes: number }> {
    return storageTotals(this.#db);
  }

  /** Moves on at every write to domains, accounts and aliases made by this process. */
  get directoryVersion(): number {
    return this.#directoryVersion;
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      let outcomes: Outcome[];
      try {
        outcomes = await this.#run(batch);
      } catch (error) {
        for (const write of batch) write.reject(error);
        continue;
      }
      // Acknowledged, and its changes published, once the commit is on disk. Writes that
      // arrive meanwhile (the event loop keeps serving) make up the next batch.
      try {
        await this.#durable();
      } catch (error) {
        log.error("syncing the database to disk failed", { error });
        for (const write of batch) write.reject(error);
        continue;
      }
      this.#settle(batch, outcomes);
      this.#checkpointer?.committed();
    }
    this.#draining = false;
  }

  /**
   * One write transaction for the whole batch, without savepoints: writes rarely fail, so a
   * batch in which one does is rolled back and its writes run again one transaction each, and
   * only the failing one fails. (A savepoint per write would cost two statements each.)
   */
  async #run(batch: PendingWrite[]): Promise<Outcome[]> {
    try {
      return await this.#transaction(batch);
    } catch (error) {
      if (batch.length === 1) throw error;
    }
    const outcomes: Outcome[] = [];
    for (const write of batch) {
      try {
        outcomes.push(...(await this.#transaction([write])));
      } catch (error) {
        outcomes.push({ ok: false, error });
      }
    }
    return outcomes;
  }

  async #transaction(batch: PendingWrite[]): Promise<Outcome[]> {
    const outcomes: Outcome[] = [];
    await this.#db.transaction(
      async (tx) => {
        // An embedded database's delivery statements run on its connection directly (prepared.ts).
        if (this.#walPath) await holdConnection(tx, this.#stats);
        const ids = new ChangeIds(tx);
        for (const write of batch) {
          const recorder = new ChangeRecorder(tx, ids);
          const value = await write.fn(tx, recorder);
          outcomes.push({ ok: true, value, events: recorder.events() });
        }
      },
      { behavior: "immediate" },
    );
    return outcomes;
  }

  #settle(batch: PendingWrite[], outcomes: Outcome[]): void {
    batch.forEach((_write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) { for (const event of outcome.events) this.changes.publish(event); }
    });
    batch.forEach((write, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) write.resolve(outcome.value);
      else write.reject(outcome.error);
    });
  }

  /**
   * Settles once everything committed so far is on disk. An embedded database syncs its WAL off
   * this thread (db.ts); the drain waits for it before the next batch, so writes arriving during
   * a sync share the next commit. A libSQL server makes its commits durable itself.
   */
  #durable(): Promise<void> {
    return this.#walPath ? syncWal(this.#walPath) : Promise.resolve();
  }

  /** A connection setting, for diagnostics and tests (`journal_mode`, `foreign_keys`, `wal_autocheckpoint`, ...). */
  async pragma(
    name: "journal_mode" | "foreign_keys" | "busy_timeout" | "synchronous" | "wal_autocheckpoint",
  ): Promise<unknown> {
    return (await this.#client.execute(`PRAGMA ${name}`)).rows[0]?.[0];
  }

  /**
   * Publishes on `changes` what other processes commit to the same database, looking every
   * `intervalMs` (store/change-watch.ts). `serve` turns it on; stopped by `close()`.
   */
  watchOtherProcesses(intervalMs = 250): void {
    this.#watcher.start(intervalMs);
  }

  /**
   * Checkpoints the WAL on a thread of its own from now on (checkpointer.ts), never on this one: `serve` turns it on.
   * Every embedded connection of the process stops checkpointing by itself.
   */
  checkpointInBackground(): void {
    if (!this.#walPath || this.#checkpointer) return;
    addConnectionSetting("PRAGMA wal_autocheckpoint = 0;");
    this.#checkpointer = new Checkpointer(
      this.#walPath.slice(0, -"-wal".length),
      () => this.#client.execute("PRAGMA wal_checkpoint(PASSIVE)"),
    );
  }

  /** Statements and commits so far (logged at stop; benchmarks divide them by messages delivered). */
  stats(): Readonly<StoreStats> {
    return { ...this.#stats };
  }

  /** Whether `close()` was called: timers that use the store end with it. */
  get closed(): boolean {
    return this.#client.closed;
  }

  /** Ends the background checkpoints (`checkpointInBackground`); call before `close` where they run. */
  async stopCheckpoints(): Promise<void> {
    await this.#checkpointer?.close();
  }

  close(): void {
    this.#watcher.stop();
    void this.#checkpointer?.close(0);
    this.#client.close();
  }
}
