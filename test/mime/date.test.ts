import { describe, expect, test } from "bun:test";
import { dayAsWritten, parseDate } from "../../src/mime/date.ts";

describe("parseDate (RFC 5322 §3.3, §4.3)", () => {
  test("numeric zones", () => {
    expect(parseDate("Mon, 23 Nov 2026 10:00:00 +0000")).toBe(Date.UTC(2026, 10, 23, 10));
    expect(parseDate("Mon, 23 Nov 2026 10:00:00 +0100")).toBe(Date.UTC(2026, 10, 23, 9));
    expect(parseDate("23 Nov 2026 10:00 -0530")).toBe(Date.UTC(2026, 10, 23, 15, 30));
    expect(parseDate("  Tue,  1 Dec 2026 23:59:60 -0000 (leap)")).toBe(Date.UTC(2026, 11, 1, 23, 59, 59));
  });

  test("obsolete zone names, years and folding", () => {
    expect(parseDate("23 Nov 2026 10:00:00 GMT")).toBe(Date.UTC(2026, 10, 23, 10));
    expect(parseDate("Mon, 23 Nov 2026 05:00:00 EST (Eastern)")).toBe(Date.UTC(2026, 10, 23, 10));
    expect(parseDate("Mon, 23 Nov 2026 03:00:00 PDT")).toBe(Date.UTC(2026, 10, 23, 10));
    expect(parseDate("Fri, 21 Nov 97 09:55:06 GMT")).toBe(Date.UTC(1997, 10, 21, 9, 55, 6));
    expect(parseDate("21 Nov 03 09:55:06 UT")).toBe(Date.UTC(2003, 10, 21, 9, 55, 6));
    expect(parseDate("Thu,\r\n 13\r\n   Feb\r\n  1969\r\n 23:32\r\n  -0330 (Newfoundland Time)")).toBe(
      Date.UTC(1969, 1, 14, 3, 2),
    );
  });

  test("garbage and impossible dates give null", () => {
    expect(parseDate(null)).toBeNull();
    expect(parseDate("")).toBeNull();
    expect(parseDate("yesterday-ish")).toBeNull();
    expect(parseDate("31 Feb 2026 10:00:00 +0000")).toBeNull();
    expect(parseDate("23 Foo 2026 10:00:00 +0000")).toBeNull();
    expect(parseDate("23 Nov 2026 25:00:00 +0000")).toBeNull();
    expect(parseDate("2026-11-23T10:00:00Z")).toBeNull();
  });
});

describe("dayAsWritten", () => {
  test("the day the field names, whatever its time and zone", () => {
    expect(dayAsWritten("Mon, 30 Nov 2026 23:30:00 -0800")).toBe("2026-11-30");
    expect(dayAsWritten("1 Jan 99 00:00 +1400")).toBe("1999-01-01");
    expect(dayAsWritten("not a date")).toBe(null);
    expect(dayAsWritten(null)).toBe(null);
  });
});
