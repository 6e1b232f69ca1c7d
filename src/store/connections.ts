/**
 * Every connection of the embedded driver, set up alike. @libsql/client keeps a pool of
 * connections to an embedded database (a transaction holds one; reads meanwhile open others), so
 * a setting made with one `execute("PRAGMA …")` reaches only the connection that ran it. Here each
 * connection gets the store's settings the first time it prepares a statement, and keeps its
 * prepared statements: the driver prepares every statement it executes anew, and on the delivery
 * path that cost as much as running them. The same SQL texts come back all the time (drizzle
 * builds the same text for the same query shape), so each connection hands its most recently used
 * statements out again. A `libsql` statement runs any number of times with new parameters; SQLite
 * prepares it again by itself after a schema change. Statements that open or close a transaction are
 * not kept (see `transactionControl`).
 */
import Database from "libsql";

/** Statements kept per connection; the least recently used goes first. */
const STATEMENTS_PER_CONNECTION = 256;

type Prepare = (this: object, sql: string) => unknown;
type Connection = { exec(sql: string): void };

/** A statement of the `libsql` driver, as a kept statement runs it. */
export interface PreparedStatement {
  raw(mode?: boolean): PreparedStatement;
  safeIntegers(toggle?: boolean): PreparedStatement;
  run(args: readonly unknown[]): { changes: number };
  all(args: readonly unknown[]): unknown[][];
}

/** An embedded connection, as src/store/prepared.ts uses it: its kept statements. */
export interface HeldConnection {
  prepare(sql: string): PreparedStatement;
}

/** The text of a claim (see `claimText`): an SQL comment, which nothing else sends. */
const CLAIM = /^\/\* postern: claim \d+ \*\/$/;
const claims = new Map<string, HeldConnection>();
let claimCount = 0;

/**
 * A statement text that names the connection it is prepared on, without running anything: a transaction executes
 * it, and `claimed(text)` then returns the connection that holds that transaction (null on a libSQL server, where no
 * embedded connection prepares it).
 */
export function claimText(): string {
  return `/* postern: claim ${++claimCount} */`;
}

export function claimed(text: string): HeldConnection | null {
  const connection = claims.get(text) ?? null;
  claims.delete(text);
  return connection;
}

/** BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE: statements that open or close a transaction. */
const TRANSACTION_CONTROL = /^\s*(?:BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i;

const connections = new WeakMap<object, Map<string, unknown>>();
/** The settings each connection last ran (the same string object while nothing was added). */
const applied = new WeakMap<object, string>();
let settings = "";
let installed = false;

/**
 * Installs the setup on every embedded connection of this process (idempotent). `pragmas` is run
 * on each connection before its first statement, e.g. `PRAGMA foreign_keys = ON;`.
 */
export function setUpConnections(pragmas: string): void {
  if (!settings.includes(pragmas)) settings = pragmas;
  install();
}

/**
 * Adds a setting for every embedded connection of this process, those already open included (each runs it before
 * its next statement).
 */
export function addConnectionSetting(pragma: string): void {
  if (!settings.includes(pragma)) settings += pragma;
  install();
}

function install(): void {
  if (installed) return;
  installed = true;
  const proto = Database.prototype as unknown as { prepare: Prepare; exec(sql: string): void };
  const prepare = proto.prepare;
  proto.prepare = function (this: object, sql: string) {
    let statements = connections.get(this);
    if (!statements) connections.set(this, statements = new Map());
    const done = applied.get(this);
    if (done !== settings) {
      // What was added since, or everything on a new connection.
      const more = done !== undefined && settings.startsWith(done) ? settings.slice(done.length) : settings;
      if (more) (this as Connection).exec(more);
      applied.set(this, settings);
    }
    if (TRANSACTION_CONTROL.test(sql)) return transactionControl(this as Connection, sql);
    if (CLAIM.test(sql)) {
      claims.set(sql, this as HeldConnection);
      return transactionControl({ exec() {} }, sql);
    }
    const hit = statements.get(sql);
    if (hit !== undefined) {
      // Most recently used last.
      statements.delete(sql);
      statements.set(sql, hit);
      return hit;
    }
    const statement = keep(prepare.call(this, sql) as KeptStatement);
    statements.set(sql, statement);
    if (statements.size > STATEMENTS_PER_CONNECTION) statements.delete(statements.keys().next().value!);
    return statement;
  };
}

interface KeptStatement {
  raw(mode?: boolean): KeptStatement;
  safeIntegers(toggle?: boolean): KeptStatement;
  columns(): unknown[];
}

/**
 * The driver asks every statement, on every execution, for integer mode, raw mode and its columns
 * (twice), each a call into native code, and raw mode throws for a statement that returns no rows
 * (every INSERT): together about 6 % of the server's time under SMTP load. A kept statement answers
 * them from what it said the first time; its SQL text, and so its columns, do not change.
 */
function keep(statement: KeptStatement): KeptStatement {
  const native = { raw: statement.raw, safeIntegers: statement.safeIntegers, columns: statement.columns };
  let rawMode: boolean | undefined;
  let rawError: unknown;
  let integers: boolean | undefined;
  let columns: unknown[] | undefined;
  statement.raw = function (mode = true) {
    if (rawError !== undefined) throw rawError;
    if (mode !== rawMode) {
      try {
        native.raw.call(this, mode);
      } catch (e) {
        rawError = e;
        throw e;
      }
      rawMode = mode;
    }
    return this;
  };
  statement.safeIntegers = function (toggle = true) {
    if (toggle !== integers) native.safeIntegers.call(this, toggle);
    integers = toggle;
    return this;
  };
  statement.columns = function () {
    return (columns ??= native.columns.call(this));
  };
  return statement;
}

/**
 * A statement that opens or closes a transaction runs through `exec`, which finalizes it whatever happens. A
 * prepared `BEGIN IMMEDIATE` that fails with SQLITE_BUSY (another process holds the write lock; the store retries)
 * stays active until it is reset or finalized, and an active statement keeps the read snapshot it took: every later
 * read on that connection then answered from the moment of the failed BEGIN, with autocommit still reported. Seen as
 * queued messages a process had just claimed but could not read (issue 15); the driver offers no reset.
 */
function transactionControl(connection: Connection, sql: string) {
  return {
    safeIntegers() {
      return this;
    },
    raw() {
      // What the driver's statements say when they return no rows.
      throw new TypeError("The raw() method is only for statements that return data");
    },
    columns: () => [],
    run() {
      connection.exec(sql);
      return { changes: 0, lastInsertRowid: 0 };
    },
  };
}
