/**
 * THREAD (RFC 5256 §3): the ORDEREDSUBJECT and REFERENCES algorithms over the matching messages,
 * and the thread list response. Pure: messages in, trees of messages out.
 */
import { baseSubject, subjectKey } from "../mime/base-subject.ts";
import type { Match } from "./search-run.ts";
import { sentDate } from "./sort.ts";

/** A node of a thread: a message, or (REFERENCES only) a dummy standing for a missing parent. */
export interface ThreadNode {
  message: Match | null;
  children: ThreadNode[];
}

/** Sent date, then sequence number; a dummy sorts by its first child. */
function compareNodes(a: ThreadNode, b: ThreadNode): number {
  const x = representative(a);
  const y = representative(b);
  if (!x || !y) return x ? -1 : y ? 1 : 0;
  return sentDate(x) - sentDate(y) || x.seq - y.seq;
}

function representative(node: ThreadNode): Match | null {
  return node.message ?? (node.children[0] ? representative(node.children[0]) : null);
}

/**
 * ORDEREDSUBJECT: messages grouped by base subject, each group in sent-date order under its first
 * message, the groups in the order of their first messages.
 */
export function orderedSubject(messages: readonly Match[]): ThreadNode[] {
  const groups = new Map<string, Match[]>();
  for (const m of messages) {
    const key = subjectKey(baseSubject(m.summary?.subject ?? null).base);
    const group = groups.get(key);
    if (group) group.push(m);
    else groups.set(key, [m]);
  }
  const leaf = (m: Match): ThreadNode => ({ message: m, children: [] });
  const threads = [...groups.values()].map((group) => {
    const nodes = group.map(leaf).sort(compareNodes);
    return { message: nodes[0]!.message, children: nodes.slice(1) };
  });
  return threads.sort(compareNodes);
}

interface Container {
  message: Match | null;
  parent: Container | null;
  children: Container[];
}

function isAncestor(ancestor: Container, of: Container): boolean {
  // A container without children is nobody's ancestor: in the common case (replies in sequence
  // order) this spares the walk up a long chain, which would make a deep thread quadratic.
  if (ancestor.children.length === 0) return ancestor === of;
  for (let c: Container | null = of; c; c = c.parent) if (c === ancestor) return true;
  return false;
}

/**
 * Every container under `roots`, each before its descendants. Walked with a stack, not recursion:
 * a thread may be tens of thousands of replies deep.
 */
function preOrder<T extends { children: T[] }>(roots: readonly T[]): T[] {
  const order: T[] = [];
  const stack = [...roots];
  while (stack.length) {
    const c = stack.pop()!;
    order.push(c);
    for (const child of c.children) stack.push(child);
  }
  return order;
}

function unlink(child: Container): void {
  if (!child.parent) return;
  child.parent.children = child.parent.children.filter((c) => c !== child);
  child.parent = null;
}

function link(parent: Container, child: Container): void {
  child.parent = parent;
  parent.children.push(child);
}

/** The references of RFC 5256 REFERENCES step 1: References, or else the first In-Reply-To. */
function referencesOf(m: Match): string[] {
  const summary = m.summary;
  if (!summary) return [];
  return summary.references.length ? summary.references : summary.inReplyTo.slice(0, 1);
}

/** REFERENCES (RFC 5256 §BASE.6.4.THREAD, after Jamie Zawinski's algorithm). */
export function references(messages: readonly Match[]): ThreadNode[] {
  // Step 1: a container per Message-ID; a missing or repeated one gets a unique id.
  const byId = new Map<string, Container>();
  const containerOf = (id: string) => {
    let c = byId.get(id);
    if (!c) byId.set(id, c = { message: null, parent: null, children: [] });
    return c;
  };
  const ordered = [...messages].sort((a, b) => a.seq - b.seq);
  const own = new Map<Match, Container>();
  for (const m of ordered) {
    const id = m.summary?.messageId;
    const existing = id ? byId.get(id) : undefined;
    let c: Container;
    if (id && (!existing || existing.message === null)) {
      c = containerOf(id);
      c.message = m;
    } else c = { message: m, parent: null, children: [] };
    own.set(m, c);
  }
  for (const m of ordered) {
    const c = own.get(m)!;
    const refs = referencesOf(m).map(containerOf);
    // 1A: link the references in order, keeping links that exist, never making a loop.
    for (let i = 0; i + 1 < refs.length; i++) {
      const parent = refs[i]!;
      const child = refs[i + 1]!;
      if (child.parent || parent === child || isAncestor(child, parent)) continue;
      link(parent, child);
    }
    // 1B: the last reference is the message's parent, replacing any other, unless that loops.
    const last = refs.at(-1);
    if (last && (last === c || isAncestor(c, last))) continue;
    unlink(c);
    if (last) link(last, c);
  }
  // Step 2: the root set. Step 3: prune dummies, children before their parents.
  const rootSet = [...new Set([...byId.values(), ...own.values()])].filter((c) => c.parent === null);
  const below = preOrder(rootSet);
  for (let i = below.length - 1; i >= 0; i--) below[i]!.children = pruneLevel(below[i]!.children, false);
  const roots = pruneLevel(rootSet, true);
  // Step 4: top level in sent-date order (a dummy by its first child, its children sorted first).
  const nodes = toNodes(roots);
  for (const n of nodes) if (!n.message) n.children.sort(compareNodes);
  nodes.sort(compareNodes);
  // Step 5: gather threads whose subjects share a base subject.
  const merged = gatherBySubject(nodes);
  // Step 6: every set of siblings in sent-date order, the deepest first.
  const all = preOrder(merged);
  for (let i = all.length - 1; i >= 0; i--) all[i]!.children.sort(compareNodes);
  return merged.sort(compareNodes);
}

/**
 * Step 3 for one level whose children are pruned already: a dummy without children goes; a dummy
 * with children gives them to its own level, except at the top level when it has more than one.
 */
function pruneLevel(level: Container[], top: boolean): Container[] {
  const out: Container[] = [];
  for (const c of level) {
    if (c.message) out.push(c);
    else if (c.children.length === 0) continue;
    else if (top && c.children.length > 1) out.push(c);
    else {
      for (const child of c.children) {
        child.parent = c.parent;
        out.push(child);
      }
    }
  }
  return out;
}

function toNodes(roots: readonly Container[]): ThreadNode[] {
  const made = new Map<Container, ThreadNode>();
  const all = preOrder(roots);
  for (let i = all.length - 1; i >= 0; i--) {
    const c = all[i]!;
    made.set(c, { message: c.message, children: c.children.map((child) => made.get(child)!) });
  }
  return roots.map((c) => made.get(c)!);
}

/** The thread subject (a dummy's is its first child's), as an i;ascii-casemap key. */
function subjectOf(n: ThreadNode): { base: string; replyOrForward: boolean } {
  const m = n.message ?? n.children[0]?.message ?? null;
  const subject = baseSubject(m?.summary?.subject ?? null);
  return { base: subjectKey(subject.base), replyOrForward: subject.replyOrForward };
}

/** Step 5: threads with the same base subject merge, under a dummy or the non-reply one. */
function gatherBySubject(roots: ThreadNode[]): ThreadNode[] {
  const table = new Map<string, ThreadNode>();
  for (const n of roots) {
    const subject = subjectOf(n);
    if (subject.base === "") continue;
    const held = table.get(subject.base);
    if (!held) table.set(subject.base, n);
    else if (held.message && (!n.message || (subjectOf(held).replyOrForward && !subject.replyOrForward))) {
      table.set(subject.base, n);
    }
  }
  // Merging never moves a thread up: each one merged goes under the one in the table, and a table
  // entry wrapped in a new dummy gives the dummy its place at the top level.
  const merged = new Set<ThreadNode>();
  const wrapped = new Map<ThreadNode, ThreadNode>();
  for (const n of roots) {
    if (merged.has(n) || wrapped.has(n)) continue;
    const subject = subjectOf(n);
    const held = subject.base === "" ? undefined : table.get(subject.base);
    if (!held || held === n) continue;
    merged.add(n);
    if (!held.message && !n.message) held.children.push(...n.children);
    else if (!held.message) held.children.push(n);
    else if (subject.replyOrForward && !subjectOf(held).replyOrForward) held.children.push(n);
    else {
      const dummy: ThreadNode = { message: null, children: [held, n] };
      table.set(subject.base, dummy);
      wrapped.set(held, dummy);
    }
  }
  return roots.filter((n) => !merged.has(n)).map((n) => wrapped.get(n) ?? n);
}

/** The THREAD response: "(2)(3 6 (4 23)(44 7 96))", numbers by `number`. */
export function formatThreads(threads: readonly ThreadNode[], number: (m: Match) => number): string {
  const parts: string[] = [];
  for (const thread of threads) {
    // thread-members for a chain of single children, thread-nested where it branches (RFC 5256
    // §4); with a stack of what is left to write, as a chain may be very long.
    parts.push("(");
    const stack: Array<ThreadNode | string> = [thread];
    while (stack.length) {
      const item = stack.pop()!;
      if (typeof item === "string") {
        parts.push(item);
        continue;
      }
      if (item.message) parts.push(String(number(item.message)));
      if (item.children.length === 0) continue;
      if (item.message) parts.push(" ");
      if (item.children.length === 1 && item.message) {
        stack.push(item.children[0]!);
        continue;
      }
      for (let i = item.children.length - 1; i >= 0; i--) stack.push(")", item.children[i]!, "(");
    }
    parts.push(")");
  }
  return parts.join("");
}
