/** RFC 5260 §4.2 date parts of an instant seen in a time zone, and the zone syntax "+hhmm"/"-hhmm". */

export const DATE_PARTS = new Set([
  "year",
  "month",
  "day",
  "date",
  "julian",
  "hour",
  "minute",
  "second",
  "time",
  "iso8601",
  "std11",
  "zone",
  "weekday",
]);

const DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** "+0100" → 60; null when malformed. */
export function parseZone(zone: string): number | null {
  const m = /^([+-])(\d{2})(\d{2})$/.exec(zone);
  if (!m || Number(m[3]) > 59) return null;
  const minutes = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === "-" ? -minutes : minutes;
}

export function formatZone(offsetMinutes: number): string {
  const a = Math.abs(offsetMinutes);
  return `${offsetMinutes < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}${pad(a % 60)}`;
}

/** The zone written at the end of an RFC 5322 date-time, in minutes; null when absent or a name. */
export function writtenZone(value: string): number | null {
  const m = /([+-]\d{4})\s*(?:\([^)]*\)\s*)?$/.exec(value.trim());
  return m ? parseZone(m[1]!) : null;
}

/** The named part of the instant `ms` as seen at `offsetMinutes` from UTC. */
export function datePart(ms: number, offsetMinutes: number, part: string): string {
  const d = new Date(ms + offsetMinutes * 60_000);
  const year = pad(d.getUTCFullYear(), 4);
  const month = pad(d.getUTCMonth() + 1);
  const day = pad(d.getUTCDate());
  const time = `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  const zone = formatZone(offsetMinutes);
  switch (part) {
    case "year":
      return year;
    case "month":
      return month;
    case "day":
      return day;
    case "date":
      return `${year}-${month}-${day}`;
    case "julian":
      // RFC 5260 §4.2: Modified Julian Day, days since 1858-11-17.
      return String(Math.floor(d.getTime() / 86_400_000) + 40587);
    case "hour":
      return pad(d.getUTCHours());
    case "minute":
      return pad(d.getUTCMinutes());
    case "second":
      return pad(d.getUTCSeconds());
    case "time":
      return time;
    case "iso8601":
      return `${year}-${month}-${day}T${time}${zone.slice(0, 3)}:${zone.slice(3)}`;
    case "std11":
      return `${DAYS[d.getUTCDay()]}, ${day} ${MONTHS[d.getUTCMonth()]} ${year} ${time} ${zone}`;
    case "zone":
      return zone;
    case "weekday":
      return String(d.getUTCDay());
    default:
      return "";
  }
}
