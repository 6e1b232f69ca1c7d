/**
 * JMAP's VacationResponse (RFC 8621 §8) as a managed Sieve script (issue 21), so the two never disagree: setting the
 * object rewrites this script, and delivery runs it (RFC 5230 vacation, with the RFC 3834 rules of every vacation).
 * Pure: the text of the script for an object; storing and activating it is the caller's.
 */
import { htmlToText } from "../mime/preview.ts";

/** The name of the managed script among the account's scripts. */
export const VACATION_SCRIPT = "JMAP VacationResponse";

export interface VacationSettings {
  isEnabled: boolean;
  fromDate: Date | null;
  toDate: Date | null;
  subject: string | null;
  textBody: string | null;
  htmlBody: string | null;
}

/** RFC 5228 §2.4.2: a quoted string escapes only `"` and `\`. */
const quoted = (s: string) => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

/** RFC 5260 §4.2 iso8601 as currentdate gives it with `:zone "+0000"`, so that the two compare as text. */
const iso = (d: Date) => `${d.toISOString().slice(0, 19)}+00:00`;

export function vacationResponseScript(v: VacationSettings): string {
  const head = "# Managed by Postern from the JMAP VacationResponse; setting it again rewrites this script.\r\n";
  if (!v.isEnabled) return `${head}keep;\r\n`;
  const reason = v.textBody ?? (v.htmlBody === null ? "" : htmlToText(v.htmlBody).replace(/[ \t]+/g, " ").trim());
  const vacation = `vacation${v.subject === null ? "" : ` :subject ${quoted(v.subject)}`} ${quoted(reason)};`;
  const window = [
    ...(v.fromDate ? [`currentdate :zone "+0000" :value "ge" "iso8601" ${quoted(iso(v.fromDate))}`] : []),
    ...(v.toDate ? [`currentdate :zone "+0000" :value "lt" "iso8601" ${quoted(iso(v.toDate))}`] : []),
  ];
  if (window.length === 0) return `${head}require "vacation";\r\n${vacation}\r\n`;
  return `${head}require ["vacation", "date", "relational"];\r\nif allof(${
    window.join(", ")
  }) {\r\n  ${vacation}\r\n}\r\n`;
}
