/**
 * RFC 5322 §3.3 date-time, with the obsolete forms of §4.3 (two- and three-digit years, zone
 * names, military zones), to epoch milliseconds. Comments are ignored; garbage gives null.
 */
import { stripComments } from "./comments.ts";

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/** RFC 5322 §4.3 obs-zone offsets in hours; other letters (military zones) mean -0000. */
const ZONES: Record<string, number> = {
  ut: 0,
  utc: 0,
  gmt: 0,
  z: 0,
  est: -5,
  edt: -4,
  cst: -6,
  cdt: -5,
  mst: -7,
  mdt: -6,
  pst: -8,
  pdt: -7,
};

const DATE_TIME =
  /^(?:[a-z]+\s*,?\s*)?(\d{1,2})\s*[\s-]\s*([a-z]{3})[a-z]*\.?\s*[\s-]\s*(\d{2,4})\s+(\d{1,2}):(\d{1,2})(?::(\d{1,2}))?(?:\s*([+-])(\d{2}):?(\d{2})|\s+([a-z]{1,5}))?(?:\s.*)?$/i;

/**
 * The calendar day a date-time names as written, `YYYY-MM-DD`, whatever its time and zone:
 * SENTBEFORE, SENTON and SENTSINCE compare that (RFC 9051 §6.4.4). Null when it does not parse.
 */
export function dayAsWritten(value: string | null): string | null {
  if (!value) return null;
  const m = DATE_TIME.exec(normalize(value));
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  if (month < 0) return null;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  return `${String(year).padStart(4, "0")}-${String(month + 1).padStart(2, "0")}-${m[1]!.padStart(2, "0")}`;
}

export function parseDate(value: string | null): number | null {
  return parseDateTime(value)?.time ?? null;
}

/**
 * The instant (epoch milliseconds) and the zone offset as written, in minutes east of UTC
 * (`-0000`, RFC 5322 §3.3's unknown zone, reads as 0).
 */
export function parseDateTime(value: string | null): { time: number; offset: number } | null {
  if (!value) return null;
  const m = DATE_TIME.exec(normalize(value));
  if (!m) return null;
  const day = Number(m[1]);
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  let year = Number(m[3]);
  // RFC 5322 §4.3: two-digit years 00-49 are 2000-2049, 50-99 and three digits are 1900 + n.
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6] ?? 0);
  if (month < 0 || hour > 23 || minute > 59 || second > 60) return null;
  let offset = 0;
  if (m[7]) {
    const minutes = Number(m[9]);
    if (minutes > 59) return null;
    offset = (m[7] === "-" ? -1 : 1) * (Number(m[8]) * 60 + minutes);
  } else if (m[10]) offset = (ZONES[m[10].toLowerCase()] ?? 0) * 60;
  const ms = Date.UTC(year, month, day, hour, minute, Math.min(second, 59)); // a leap second reads as :59
  // Reject days the month does not have (Date.UTC would roll "31 Feb" over into March).
  if (new Date(ms).getUTCDate() !== day || day < 1) return null;
  return { time: ms - offset * 60_000, offset };
}

/** The value without comments, trimmed, each run of white space one space. */
function normalize(value: string): string {
  const text = stripComments(value).trim();
  // Most Date fields have single spaces only: the replace is spared.
  return /\s\s|[^\S ]/.test(text) ? text.replace(/\s+/g, " ") : text;
}
