/**
 * CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4): a SEARCH or SORT with RETURN (UPDATE) keeps its result, and the
 * session reports how it changes as ESEARCH ADDTO / REMOVEFROM while the mailbox stays selected, until
 * CANCELUPDATE; RETURN (PARTIAL first:last) returns a window of the result.
 */
import type { PartialRange } from "./commands.ts";
import { type Completion, type HandlerContext, no, ok } from "./context.ts";
import { matching } from "./search-run.ts";
import type { SearchKey } from "./search.ts";
import { formatSequenceSet } from "./sequence-set.ts";
import { type SortCriterion, sortMessages } from "./sort.ts";
import type { MailboxView } from "./view.ts";

export interface SearchContext {
  /** The searching command's tag, which its updates carry (RFC 5267 §4.3). */
  tag: string;
  /** UID SEARCH / UID SORT: updates name UIDs, else message numbers (§4.3.2). */
  uid: boolean;
  key: SearchKey;
  /** SORT's criteria; null for SEARCH, whose result is in mailbox order. */
  criteria: SortCriterion[] | null;
  /** The result as the client holds it: UIDs in the requested order. */
  result: number[];
}

/** RFC 5267 §4.3.1: at least one updating context per client; more get NO [NOUPDATE]. */
export const MAX_CONTEXTS = 8;

/** The return options that shape no result data: CONTEXT is a hint (§4.2), UPDATE asks for updates (§4.3). */
export function resultOptions(options: readonly string[]): string[] {
  const rest = options.filter((o) => o !== "CONTEXT" && o !== "UPDATE");
  // RFC 4731 §3.1: no return option (here: none but CONTEXT and UPDATE) means ALL.
  return rest.length ? rest : ["ALL"];
}

/**
 * Keeps the result of a searching command with UPDATE; when the session has as many as it keeps, an untagged
 * `NO [NOUPDATE "tag"]` to send instead, the command's other return options being still honoured (§4.3.1).
 */
export function keepContext(ctx: HandlerContext, context: SearchContext): string[] {
  const view = ctx.view!;
  if (view.contexts.size >= MAX_CONTEXTS) return [`* NO [NOUPDATE "${context.tag}"] Too many update contexts\r\n`];
  view.contexts.set(context.tag, context);
  // What changed before this command's own refresh is already in the result.
  view.takeStale();
  return [];
}

/** CANCELUPDATE (RFC 5267 §4.3.5): the searches with these tags send no more updates. */
export function cancelUpdate(ctx: HandlerContext, tags: readonly string[]): Completion {
  const contexts = ctx.view!.contexts;
  const unknown = tags.find((tag) => !contexts.has(tag));
  if (unknown !== undefined) return no(`No search with UPDATE has the tag ${unknown}`);
  for (const tag of tags) contexts.delete(tag);
  return ok("CANCELUPDATE completed");
}

/** RFC 5267 §4.4: the PARTIAL data item, positions first..last of the result, NIL when there are none. */
export function partialItem(numbers: readonly number[], range: PartialRange): string {
  const window = numbers.slice(range.first - 1, range.last);
  return `PARTIAL (${range.first}:${range.last} ${window.length ? formatSequenceSet(window) : "NIL"})`;
}

/**
 * REMOVEFROM for results the view is about to expunge (`gone`), sent before the EXPUNGE responses while their
 * message numbers still hold (RFC 5267 §4.3.4).
 */
export function removedByExpunge(view: MailboxView, gone: ReadonlySet<number>): string[] {
  const out: string[] = [];
  for (const context of view.contexts.values()) {
    if (!context.result.some((uid) => gone.has(uid))) continue;
    const next = context.result.filter((uid) => !gone.has(uid));
    out.push(...diffLine(view, context, next));
  }
  return out;
}

/**
 * Looks at each context again after the view's update and reports the difference: sent after EXISTS, so the
 * message numbers of new messages are valid (§4.3.3).
 */
export async function contextUpdates(ctx: HandlerContext): Promise<string[]> {
  const view = ctx.view!;
  const out: string[] = [];
  for (const context of view.contexts.values()) {
    const found = await matching(ctx, context.key);
    const next = context.criteria ? sortMessages(found, context.criteria).map((m) => m.uid) : found.map((m) => m.uid);
    out.push(...diffLine(view, context, next));
  }
  return out;
}

/** The ESEARCH response that turns the context's result into `next` (none if equal), and records `next`. */
function diffLine(view: MailboxView, context: SearchContext, next: number[]): string[] {
  const number = (uid: number) => (context.uid ? uid : view.seqOf(uid));
  const items = context.criteria ? sortedChanges(context.result, next, number) : mailboxOrderChanges(
    context.result,
    next,
    number,
  );
  context.result = next;
  if (items.length === 0) return [];
  return [`* ESEARCH (TAG "${context.tag}")${context.uid ? " UID" : ""} ${items.join(" ")}\r\n`];
}

/** SEARCH contexts: position 0, the numbers in mailbox order (§4.3.3, §4.3.4: the shortest set syntax). */
function mailboxOrderChanges(old: readonly number[], next: readonly number[], number: (uid: number) => number) {
  const had = new Set(old);
  const has = new Set(next);
  const items: string[] = [];
  const removed = old.filter((uid) => !has.has(uid)).map(number).sort((a, b) => a - b);
  const added = next.filter((uid) => !had.has(uid)).map(number).sort((a, b) => a - b);
  if (removed.length) items.push(`REMOVEFROM (0 ${formatSequenceSet(removed)})`);
  if (added.length) items.push(`ADDTO (0 ${formatSequenceSet(added)})`);
  return items;
}

/**
 * SORT contexts: each run of neighbours removed at its 1-based position in the list as it stands, then each
 * run of new results inserted where it belongs, so applying the pairs in order gives `next` (§4.3.2).
 */
function sortedChanges(old: readonly number[], next: readonly number[], number: (uid: number) => number) {
  const items: string[] = [];
  const has = new Set(next);
  // Results that stay but changed places (a sort key changed) are removed and added again.
  const staying = old.filter((uid) => has.has(uid));
  const stayingSet = new Set(staying);
  const order = next.filter((uid) => stayingSet.has(uid));
  const keep = new Set(staying.every((uid, i) => order[i] === uid) ? staying : []);
  // Each removal shifts the positions after it: the list as it stands when the pair is applied.
  let removed = 0;
  for (const [i, j] of runsOutside(old, keep)) {
    items.push(`REMOVEFROM (${i + 1 - removed} ${formatSequenceSet(old.slice(i, j).map(number))})`);
    removed += j - i;
  }
  for (const [i, j] of runsOutside(next, keep)) {
    items.push(`ADDTO (${i + 1} ${formatSequenceSet(next.slice(i, j).map(number))})`);
  }
  return items;
}

/** The runs [i, j) of neighbours in `list` that `keep` does not hold. */
function runsOutside(list: readonly number[], keep: ReadonlySet<number>): Array<[number, number]> {
  const runs: Array<[number, number]> = [];
  for (let i = 0; i < list.length;) {
    if (keep.has(list[i]!)) {
      i++;
      continue;
    }
    let j = i;
    while (j < list.length && !keep.has(list[j]!)) j++;
    runs.push([i, j]);
    i = j;
  }
  return runs;
}
