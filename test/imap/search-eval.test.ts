/** SEARCH keys evaluated against one message (src/imap/search-eval.ts). */
import { describe, expect, test } from "bun:test";
import { matches, type SearchTarget } from "../../src/imap/search-eval.ts";
import type { SearchKey } from "../../src/imap/search.ts";
import { summarize } from "../../src/mime/summary.ts";

function target(raw: string): SearchTarget {
  return {
    seq: 1,
    uid: 1,
    flags: [],
    modseq: 1,
    size: raw.length,
    internalDate: new Date("2026-11-28T12:00:00Z"),
    summary: null,
    raw: new TextEncoder().encode(raw),
    maxSeq: 1,
    maxUid: 1,
    saved: [],
  };
}

const header = (field: string, value: string): SearchKey => ({ op: "header", field, value });

describe("SEARCH HEADER (RFC 9051 §6.4.4)", () => {
  const tagged = target("Subject: hi\r\nX-Tag: Blue sky\r\n\r\nbody\r\n");
  const plain = target("Subject: hi\r\n\r\nbody\r\n");

  test("an empty string matches every message that has the field, and none that does not", () => {
    expect(matches(header("x-tag", ""), tagged)).toBe(true);
    expect(matches(header("x-tag", ""), plain)).toBe(false);
  });

  test("a value matches as a case-insensitive substring of the field", () => {
    expect(matches(header("x-tag", "blue"), tagged)).toBe(true);
    expect(matches(header("x-tag", "green"), tagged)).toBe(false);
    expect(matches(header("x-tag", "blue"), plain)).toBe(false);
  });

  test("NOT HEADER of an absent field matches", () => {
    expect(matches({ op: "not", key: header("x-tag", "") }, plain)).toBe(true);
  });
});

describe("SEARCH FROM / TO / CC (RFC 9051 §6.4.4)", () => {
  const withSummary = (raw: string): SearchTarget => ({
    ...target(raw),
    summary: summarize(new TextEncoder().encode(raw)),
  });
  const commented = withSummary(
    "From: joe(the boss)@example.com\r\nTo: Ann (sales) <ann @ example.org>\r\n" +
      "Cc: =?utf-8?q?Ren=C3=A9?= <rene@example.net>\r\nSubject: x\r\n\r\nbody\r\n",
  );

  test("an address written with a comment or spaces matches as the address it is", () => {
    expect(matches(header("from", "joe@example.com"), commented)).toBe(true);
    expect(matches(header("to", "ann@example.org"), commented)).toBe(true);
    expect(matches(header("to", "<ann@example.org>"), commented)).toBe(true);
    expect(matches(header("cc", "René"), commented)).toBe(true);
    expect(matches(header("from", "ann@example.org"), commented)).toBe(false);
  });
});

describe("WITHIN: OLDER and YOUNGER (RFC 5032)", () => {
  test("the internal date against the time of the search, in seconds", () => {
    const m = { ...target("Subject: x\r\n\r\n"), now: Date.parse("2026-11-28T12:01:00Z") };
    const age = (cmp: "older" | "younger", seconds: number): SearchKey => ({ op: "age", cmp, seconds });
    expect(matches(age("younger", 60), m)).toBe(true);
    expect(matches(age("younger", 59), m)).toBe(false);
    expect(matches(age("older", 59), m)).toBe(true);
    expect(matches(age("older", 60), m)).toBe(false);
  });
});

describe("SENTBEFORE / SENTON / SENTSINCE (RFC 9051 §6.4.4)", () => {
  const sent = (date: string): SearchTarget => ({
    ...target(`Date: ${date}\r\nSubject: x\r\n\r\nbody\r\n`),
    summary: { envelope: { date }, sentAt: Date.parse("2026-12-01T07:30:00Z") } as never,
  });
  const on = (day: string): SearchKey => ({ op: "date", which: "sent", cmp: "on", day });

  test("compare the Date field's day as written, not the day in UTC", () => {
    // 23:30 on the 30th in -0800 is 07:30 on the 1st in UTC.
    const late = sent("Mon, 30 Nov 2026 23:30:00 -0800");
    expect(matches(on("2026-11-30"), late)).toBe(true);
    expect(matches(on("2026-12-01"), late)).toBe(false);
    expect(matches({ op: "date", which: "sent", cmp: "before", day: "2026-12-01" }, late)).toBe(true);
    expect(matches({ op: "date", which: "sent", cmp: "since", day: "2026-12-01" }, late)).toBe(false);
  });

  test("obsolete forms: a two-digit year and a zone name", () => {
    expect(matches(on("2026-11-30"), sent("30 Nov 26 23:30 PST"))).toBe(true);
  });
});
