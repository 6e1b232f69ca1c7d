/**
 * Sequence sets (RFC 9051 §9 sequence-set): numbers, ranges in either order, `*` for the
 * largest number in use, and `$` for the saved search result (RFC 5182). Kept as ranges, never
 * expanded, so `1:4294967295` costs nothing.
 */
import type { Cursor } from "./cursor.ts";

/** `Infinity` stands for `*`. */
export interface SequenceRange {
  start: number;
  end: number;
}

export type SequenceSet = { saved: true } | { saved: false; ranges: SequenceRange[] };

export function parseSequenceSet(cursor: Cursor): SequenceSet {
  if (cursor.accept("$")) return { saved: true };
  const ranges: SequenceRange[] = [];
  do {
    const start = seqNumber(cursor);
    const end = cursor.accept(":") ? seqNumber(cursor) : start;
    ranges.push(start <= end ? { start, end } : { start: end, end: start });
  } while (cursor.accept(","));
  return { saved: false, ranges };
}

function seqNumber(cursor: Cursor): number {
  return cursor.accept("*") ? Number.POSITIVE_INFINITY : cursor.nzNumber();
}

/**
 * Whether `n` is in the set, `*` standing for `max` (RFC 9051 §9: "*" is the largest number in
 * use; in a UID set on an empty mailbox it is still a valid, matchless range).
 */
export function contains(set: Extract<SequenceSet, { saved: false }>, n: number, max: number): boolean {
  for (const { start, end } of set.ranges) {
    const lo = Math.min(resolve(start, max), resolve(end, max));
    const hi = Math.max(resolve(start, max), resolve(end, max));
    if (n >= lo && n <= hi) return true;
  }
  return false;
}

function resolve(n: number, max: number): number {
  return n === Number.POSITIVE_INFINITY ? max : n;
}

/** The members of `sorted` (ascending numbers) that are in the set: a linear merge, no expansion. */
export function select(set: Extract<SequenceSet, { saved: false }>, sorted: readonly number[], max: number): number[] {
  return sorted.filter((n) => contains(set, n, max));
}

/** Compresses ascending numbers to the shortest set text: [1,2,3,5] → "1:3,5". */
export function formatSequenceSet(numbers: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < numbers.length;) {
    let j = i;
    while (j + 1 < numbers.length && numbers[j + 1] === numbers[j]! + 1) j++;
    parts.push(i === j ? `${numbers[i]}` : `${numbers[i]}:${numbers[j]}`);
    i = j + 1;
  }
  return parts.join(",");
}
