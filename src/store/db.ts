/**
 * Opening the database: an embedded libSQL file by default, or a libSQL server.
 * An embedded database holds every message and password hash: its directory is created 0700 and the
 * file, its WAL and shared-memory index are 0600.
 */
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { type Client, createClient } from "@libsql/client";
import { drizzle, type LibSQLDatabase } from "drizzle-orm/libsql";
import { log } from "../util/log.ts";
import * as schema from "./schema.ts";
import { setUpConnections } from "./connections.ts";

export type Db = LibSQLDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

export interface DatabaseOptions {
  url: string;
  authToken?: string;
}

/** Milliseconds a connection waits for another process's write lock (SQLite busy timeout). */
const BUSY_TIMEOUT_MS = 5000;

function filePath(url: string): string | null {
  if (!url.startsWith("file:")) return null;
  const rest = url.slice("file:".length).split("?")[0]!;
  if (rest === ":memory:") return null;
  return rest.startsWith("//") ? fileURLToPath(url.split("?")[0]!) : rest;
}

/** What the store has sent to the database since it opened (for benchmarks: statements per message). */
export interface StoreStats {
  /** SQL statements executed, transaction control (BEGIN, SAVEPOINT, COMMIT) included. */
  statements: number;
  /** Transactions committed. */
  commits: number;
}

/** SQLITE_BUSY: another connection (another process) holds the lock this statement needs. */
function isBusy(e: unknown): boolean {
  const error = e as { code?: unknown; rawCode?: unknown; message?: unknown };
  return error.code === "SQLITE_BUSY" || error.rawCode === 5 || /database is locked/i.test(String(error.message));
}

/**
 * Runs `fn` again while the database is busy, waiting a little longer each time (1 ms up to
 * 4 ms, with jitter: write transactions are short, so the lock is soon free) without blocking
 * the event loop, for at most BUSY_TIMEOUT_MS: the busy timeout of SQLite, done asynchronously. With several processes on one database, a write
 * transaction's BEGIN IMMEDIATE meets another process's writer this way.
 */
async function retryBusy<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let attempt = 0;; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!isBusy(e) || Date.now() > deadline) throw e;
      await new Promise((resolve) => setTimeout(resolve, Math.min(2 ** attempt, 4) * (0.5 + Math.random())));
    }
  }
}

/** Wraps the client so every statement it executes, in a transaction or not, is counted. */
function counting(client: Client, stats: StoreStats): Client {
  const countTx = <T extends object>(tx: T): T =>
    new Proxy(tx, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== "function") return value;
        if (key === "execute") {
          return (...args: unknown[]) => (stats.statements++, value.apply(target, args));
        }
        if (key === "batch") {
          return (
            stmts: unknown[],
            ...rest: unknown[]
          ) => (stats.statements += stmts.length, value.call(target, stmts, ...rest));
        }
        if (key === "commit") return () => (stats.statements++, stats.commits++, value.call(target));
        return value.bind(target);
      },
    });
  return new Proxy(client, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key === "transaction" && typeof value === "function") {
        return (...args: unknown[]) =>
          retryBusy(async () => (stats.statements++, countTx(await value.apply(target, args))));
      }
      if (key === "execute" || key === "batch") {
        const run = countTx(target)[key] as (...args: unknown[]) => Promise<unknown>;
        return (...args: unknown[]) => retryBusy(() => run(...args));
      }
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

export async function openDatabase(
  options: DatabaseOptions,
): Promise<{ client: Client; db: Db; stats: StoreStats; walPath: string | null }> {
  const path = filePath(options.url);
  if (path) createPrivately(path);
  const stats: StoreStats = { statements: 0, commits: 0 };
  // Every pooled connection: foreign keys enforced (cascades), commits without SQLite's own sync
  // (see below), and no busy handler — a connection that finds another process writing would
  // sleep in it, stalling this whole process; `retryBusy` waits without blocking instead.
  if (path) setUpConnections("PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 0;");
  // Opening runs a first statement, which meets another process's WAL recovery as SQLITE_BUSY.
  const client = counting(
    await retryBusy(async () =>
      createClient({ url: options.url, authToken: options.authToken, timeout: path ? 0 : BUSY_TIMEOUT_MS })
    ),
    stats,
  );
  if (options.url.startsWith("file:")) {
    // WAL lets readers (IMAP, POP3, the API) run while a delivery commits. A commit must be on
    // disk before we acknowledge it (a 250 means the message survives power loss), but SQLite's
    // own sync (synchronous = FULL) would fsync on this thread and stall every session while the
    // disk works. So SQLite commits without syncing (NORMAL: in WAL mode it then syncs only at
    // checkpoints, keeping the database consistent) and the store syncs the WAL file itself,
    // off the JavaScript thread, before it acknowledges the batch (see `syncWal`).
    await client.execute("PRAGMA journal_mode = WAL");
    await client.execute(`PRAGMA synchronous = ${path ? "NORMAL" : "FULL"}`);
  }
  if (path) tightenFiles(path);
  await client.execute("PRAGMA foreign_keys = ON");
  return { client, db: drizzle(client, { schema }), stats, walPath: path ? `${path}-wal` : null };
}

/**
 * Makes every transaction committed so far durable: fdatasync of the WAL file, run by the
 * runtime's thread pool so the event loop keeps serving. fsync flushes the file's data whichever
 * descriptor it is called on, so this covers SQLite's writes. Frames committed to the WAL are only
 * ever overwritten after a checkpoint copied them into the database file, and SQLite syncs a
 * checkpoint itself, so a commit is on disk either way once this settles.
 */
export async function syncWal(walPath: string): Promise<void> {
  let handle;
  try {
    handle = await open(walPath, "r");
  } catch (e) {
    // No WAL: nothing was written since the last checkpoint removed it, which synced.
    if ((e as { code?: unknown }).code === "ENOENT") return;
    throw e;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates the database's directory (0700, with any missing parents) and an empty database file (0600)
 * before SQLite opens it: SQLite gives the -wal and -shm files the mode of the database file, so none of
 * them is ever readable by others. A directory that already exists is the user's and is left as it is.
 */
function createPrivately(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  try {
    closeSync(openSync(path, "wx", 0o600));
  } catch (e) {
    if ((e as { code?: unknown }).code !== "EEXIST") throw e;
  }
}

/** Takes group and other access off a database made by an earlier build (created with the umask's mode) and its WAL files. */
function tightenFiles(path: string): void {
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    const mode = statSync(file, { throwIfNoEntry: false })?.mode;
    if (mode === undefined || (mode & 0o077) === 0) continue;
    try {
      chmodSync(file, mode & 0o700);
    } catch (e) {
      // Another user's file that we may still open (say, root running a command on the service's data).
      log.warn("cannot restrict the database file to its owner", { path: file, error: e });
    }
  }
}
