/**
 * SMTP replies as values (RFC 5321 §4.2) with enhanced status codes (RFC 3463, RFC 2034).
 * Protocol errors are built as `Reply` values and turned into text only when written.
 */

export interface Reply {
  code: number;
  /** e.g. "5.5.1"; absent for the greeting and EHLO/HELO replies (RFC 2034 §3). */
  enhanced?: string;
  lines: string[];
}

export function reply(code: number, enhanced: string | undefined, ...lines: string[]): Reply {
  return enhanced === undefined ? { code, lines } : { code, enhanced, lines };
}

/** "250-first\r\n250 last\r\n": the enhanced code prefixes every line (RFC 2034 §3). */
export function formatReply(r: Reply): string {
  const lines = r.lines.length ? r.lines : [""];
  let out = "";
  for (let i = 0; i < lines.length; i++) {
    const separator = i === lines.length - 1 ? " " : "-";
    const text = r.enhanced ? (lines[i] ? `${r.enhanced} ${lines[i]}` : r.enhanced) : lines[i];
    out += `${r.code}${separator}${text}\r\n`;
  }
  return out;
}
