/**
 * SORT (RFC 5256 §3): sort criteria and the order they give. Strings compare by i;ascii-casemap;
 * messages equal under every criterion keep sequence order (§BASE.6.4.SORT).
 */
import { baseSubject, subjectKey } from "../mime/base-subject.ts";
import type { EnvelopeAddress } from "../mime/envelope.ts";
import { decodeEncodedWords } from "../mime/header.ts";
import type { Cursor } from "./cursor.ts";
import type { Match } from "./search-run.ts";

export type SortKeyName = "ARRIVAL" | "CC" | "DATE" | "FROM" | "SIZE" | "SUBJECT" | "TO" | "DISPLAYFROM" | "DISPLAYTO";

export interface SortCriterion {
  key: SortKeyName;
  reverse: boolean;
}

const KEYS = new Set<string>(["ARRIVAL", "CC", "DATE", "FROM", "SIZE", "SUBJECT", "TO", "DISPLAYFROM", "DISPLAYTO"]);

/** sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"; sort-criterion = ["REVERSE" SP] sort-key. */
export function parseSortCriteria(c: Cursor): SortCriterion[] {
  return c.list(() => {
    let word = c.atom().toUpperCase();
    let reverse = false;
    if (word === "REVERSE") {
      reverse = true;
      c.sp();
      word = c.atom().toUpperCase();
    }
    if (!KEYS.has(word)) c.fail(`a sort key (not ${word})`);
    return { key: word as SortKeyName, reverse };
  });
}

/** The sent date of RFC 5256 §2.2: the Date field in UTC, or the internal date without one. */
export function sentDate(m: Match): number {
  return m.summary?.sentAt ?? m.internalDate.getTime();
}

/** The first address of a list: its mailbox (RFC 5256), or its display name for DISPLAY* (RFC 5957). */
function firstAddress(list: EnvelopeAddress[] | null | undefined, display: boolean): string {
  const first = list?.find((a) => a.host !== null);
  if (!first) return "";
  if (display) {
    // RFC 5957 §3: the decoded display name, or the address when there is none.
    if (first.name) return subjectKey(decodeEncodedWords(first.name));
    return subjectKey(`${first.mailbox ?? ""}@${first.host}`);
  }
  return subjectKey(first.mailbox ?? "");
}

function value(m: Match, key: SortKeyName): string | number {
  const envelope = m.summary?.envelope;
  switch (key) {
    case "ARRIVAL":
      return m.internalDate.getTime();
    case "DATE":
      return sentDate(m);
    case "SIZE":
      return m.size;
    case "SUBJECT":
      return subjectKey(baseSubject(m.summary?.subject ?? null).base);
    case "FROM":
    case "DISPLAYFROM":
      return firstAddress(envelope?.from, key === "DISPLAYFROM");
    case "TO":
    case "DISPLAYTO":
      return firstAddress(envelope?.to, key === "DISPLAYTO");
    case "CC":
      return firstAddress(envelope?.cc, false);
  }
}

/** The messages in the order the criteria give. */
export function sortMessages(messages: readonly Match[], criteria: readonly SortCriterion[]): Match[] {
  const keyed = messages.map((m) => ({ m, values: criteria.map((c) => value(m, c.key)) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < criteria.length; i++) {
      const x = a.values[i]!;
      const y = b.values[i]!;
      const order = x < y ? -1 : x > y ? 1 : 0;
      if (order !== 0) return criteria[i]!.reverse ? -order : order;
    }
    return a.m.seq - b.m.seq;
  });
  return keyed.map((k) => k.m);
}
