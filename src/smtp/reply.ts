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

/**
 * Reply text may quote the client (a parameter, the EHLO name); RFC 5321 §4.2 textstring allows
 * no control characters but HT, so a client's CR, NUL or ESC is shown as "?".
 */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/g;
const HAS_CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

export function reply(code: number, enhanced: string | undefined, ...text: string[]): Reply {
  // Most replies are fixed text: they are taken as they are (a replace each was 1 % of the SMTP layer).
  for (let i = 0; i < text.length; i++) if (HAS_CONTROL.test(text[i]!)) text[i] = text[i]!.replace(CONTROL, "?");
  return enhanced === undefined ? { code, lines: text } : { code, enhanced, lines: text };
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
