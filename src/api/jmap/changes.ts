/**
 * Foo/changes and Foo/queryChanges (RFC 8620 §5.2, §5.6) over the change log — the same log IMAP
 * takes its MODSEQs from, so a state string is the id of the account's newest change.
 */
import type { ChangeOp as Op, ChangeType, LogEntry } from "../../store/change-log.ts";
import type { Store } from "../../store/store.ts";
import { accountJmapId, accountState, type JmapAccount, mailboxId } from "./mailbox.ts";
import { MethodError } from "./request.ts";

/** A state string of ours (schemas.ts has checked it is a string); any other is cannotCalculateChanges. */
function parseState(state: unknown): number {
  const n = Number(state);
  if (state === "" || !Number.isInteger(n) || n < 0) {
    throw new MethodError("cannotCalculateChanges", "Unknown state");
  }
  return n;
}

/** maxChanges, a positive integer when given (schemas.ts). */
const parseMaxChanges = (value: unknown) => (value ?? null) as number | null;

/** The log after `since` up to the account's current state (read first, so nothing is skipped). */
async function logSince(
  store: Store,
  account: JmapAccount,
  type: ChangeType,
  since: number,
): Promise<{ log: LogEntry[]; state: string }> {
  const state = await accountState(store, account);
  if (since > Number(state)) throw new MethodError("cannotCalculateChanges", "Unknown state");
  const log = await store.changeLog.since(account.id, type, since, Number(state));
  return { log, state };
}

/**
 * Cuts the log after the last entry that keeps the number of distinct objects within
 * `maxChanges` (§5.2: the server returns a state in between and hasMoreChanges).
 */
function limit<T extends { id: number }>(log: readonly T[], key: (e: T) => string | number, maxChanges: number | null) {
  if (maxChanges === null) return { log, more: false };
  const seen = new Set<string | number>();
  for (let i = 0; i < log.length; i++) {
    seen.add(key(log[i]!));
    if (seen.size > maxChanges) {
      if (i === 0) throw new MethodError("cannotCalculateChanges", "maxChanges is too small");
      // Never split one change id (a single transaction's entries share none, but stay safe).
      let end = i;
      while (end > 0 && log[end - 1]!.id === log[i]!.id) end--;
      return { log: log.slice(0, end), more: true };
    }
  }
  return { log, more: false };
}

/** Folds per-object operations into created / updated / destroyed (§5.2). */
function classify<K>(
  entries: Iterable<[K, Set<Op>]>,
  existedBefore: (key: K, ops: Set<Op>) => boolean,
  existsNow: (key: K) => boolean,
) {
  const created: K[] = [];
  const updated: K[] = [];
  const destroyed: K[] = [];
  for (const [key, ops] of entries) {
    const before = existedBefore(key, ops);
    const now = existsNow(key);
    if (!before && now) created.push(key);
    else if (before && !now) destroyed.push(key);
    else if (before && now) updated.push(key);
  }
  return { created, updated, destroyed };
}

/** Email/changes, Mailbox/changes, Identity/changes and EmailSubmission/changes. */
export async function changesOf(
  store: Store,
  account: JmapAccount,
  type: ChangeType,
  args: Record<string, unknown>,
  idOf: (id: number) => string,
) {
  const since = parseState(args.sinceState);
  const read = await logSince(store, account, type, since);
  const { log, more } = limit(read.log, (e) => e.objectId, parseMaxChanges(args.maxChanges));
  const ops = new Map<number, Set<Op>>();
  for (const entry of log) ops.set(entry.objectId, (ops.get(entry.objectId) ?? new Set()).add(entry.op));
  // Ids are never reused, so an object created since the old state did not exist then.
  const result = classify(ops, (_, set) => !set.has("created"), (id) => !ops.get(id)!.has("destroyed"));
  const newState = more ? String(log[log.length - 1]!.id) : read.state;
  return {
    accountId: accountJmapId(account.id),
    oldState: args.sinceState,
    newState,
    hasMoreChanges: more,
    created: result.created.map(idOf),
    updated: result.updated.map(idOf),
    destroyed: result.destroyed.map(idOf),
  };
}

/**
 * Thread/changes (RFC 8621 §3.2): a thread changes when emails join or leave it, that is when an
 * email is created or destroyed ("updated" entries — keywords, moves — leave threads as they
 * are). The log keeps each email's thread, so the thread of a destroyed email is still known.
 */
export async function threadChanges(store: Store, account: JmapAccount, args: Record<string, unknown>) {
  const since = parseState(args.sinceState);
  const read = await logSince(store, account, "email", since);
  const membership = read.log.filter((e): e is LogEntry & { threadId: string } =>
    e.op !== "updated" && e.threadId !== null
  );
  const { log, more } = limit(membership, (e) => e.threadId, parseMaxChanges(args.maxChanges));
  const touched = new Map<string, LogEntry[]>();
  for (const entry of log) touched.set(entry.threadId, [...(touched.get(entry.threadId) ?? []), entry]);
  // Over the whole log read, not the page: an email created after the page did not exist at the old state either.
  const createdSince = new Set(membership.filter((e) => e.op === "created").map((e) => e.objectId));
  const now = touched.size ? await store.emails.threads(account.id, [...touched.keys()]) : new Map<string, number[]>();
  const result = classify(
    [...touched].map(([t, entries]) => [t, new Set(entries.map((e) => e.op))] as [string, Set<Op>]),
    // It existed at the old state if one of its emails did: one here now, or one destroyed since, not created since.
    (t) =>
      (now.get(t) ?? []).some((id) => !createdSince.has(id)) ||
      touched.get(t)!.some((e) => e.op === "destroyed" && !createdSince.has(e.objectId)),
    (t) => (now.get(t)?.length ?? 0) > 0,
  );
  const newState = more ? String(log[log.length - 1]!.id) : read.state;
  return { accountId: accountJmapId(account.id), oldState: args.sinceState, newState, hasMoreChanges: more, ...result };
}

/**
 * Foo/queryChanges (RFC 8620 §5.6), exact enough for a client to splice: every object changed
 * since the old state goes into `removed` (the RFC allows ids that were not in the old results),
 * and those that are in the current results come back in `added` at their index.
 */
export async function queryChangesOf(
  store: Store,
  account: JmapAccount,
  type: ChangeType,
  args: Record<string, unknown>,
  current: () => Promise<string[]>,
  idOf: (id: number) => string,
) {
  const since = parseState(args.sinceQueryState);
  const read = await logSince(store, account, type, since);
  const changed = [...new Set(read.log.map((e) => idOf(e.objectId)))];
  const maxChanges = parseMaxChanges(args.maxChanges);
  if (maxChanges !== null && changed.length > maxChanges) {
    throw new MethodError("tooManyChanges", `${changed.length} changes, more than maxChanges`);
  }
  const ids = await current();
  const index = new Map(ids.map((id, i) => [id, i]));
  const added = changed.filter((id) => index.has(id)).map((id) => ({ id, index: index.get(id)! })).sort((a, b) =>
    a.index - b.index
  );
  return {
    accountId: accountJmapId(account.id),
    oldQueryState: args.sinceQueryState,
    newQueryState: read.state,
    removed: changed,
    added,
    ...(args.calculateTotal === true ? { total: ids.length } : {}),
  };
}

/** RFC 8621 §2.2: the Mailbox properties that move when only its emails change. */
const COUNTS = ["totalEmails", "unreadEmails", "totalThreads", "unreadThreads"];

/**
 * Mailbox/changes (RFC 8621 §2.2): the mailbox log, and the mailboxes whose emails changed (their
 * counts moved). `updatedProperties` lists the counts when those are all that changed in every
 * updated mailbox, null otherwise.
 */
export async function mailboxChanges(store: Store, account: JmapAccount, args: Record<string, unknown>) {
  const since = parseState(args.sinceState);
  const boxes = await logSince(store, account, "mailbox", since);
  const emails = await store.changeLog.since(account.id, "email", since, Number(boxes.state));
  const merged = [
    ...boxes.log.map((e) => ({ id: e.id, objectId: e.objectId, op: e.op, counts: false })),
    ...emails.filter((e) => e.mailboxId !== null).map((e) => ({
      id: e.id,
      objectId: e.mailboxId!,
      op: "updated" as Op,
      counts: true,
    })),
  ].sort((a, b) => a.id - b.id);
  const { log, more } = limit(merged, (e) => e.objectId, parseMaxChanges(args.maxChanges));
  const ops = new Map<number, Set<Op>>();
  const properties = new Set<number>();
  for (const entry of log) {
    ops.set(entry.objectId, (ops.get(entry.objectId) ?? new Set()).add(entry.op));
    if (!entry.counts) properties.add(entry.objectId);
  }
  const result = classify(ops, (_, set) => !set.has("created"), (id) => !ops.get(id)!.has("destroyed"));
  const countsOnly = result.updated.length > 0 && result.updated.every((id) => !properties.has(id));
  return {
    accountId: accountJmapId(account.id),
    oldState: args.sinceState,
    newState: more ? String(log[log.length - 1]!.id) : boxes.state,
    hasMoreChanges: more,
    created: result.created.map(mailboxId),
    updated: result.updated.map(mailboxId),
    destroyed: result.destroyed.map(mailboxId),
    updatedProperties: countsOnly ? COUNTS : null,
  };
}
