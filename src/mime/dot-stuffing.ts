/**
 * Dot-stuffing of a message sent as lines ended by a "." line: SMTP DATA (RFC 5321 §4.5.2) and
 * POP3 multi-line responses (RFC 1939 §3) share the rule. A pure bytes transform; reading it back
 * (with SMTP's end-of-data and bare-LF rules) is `smtp/data.ts`'s `DataDecoder`.
 */
import { concatBytes } from "../util/bytes.ts";

const CRLF = Uint8Array.of(0x0d, 0x0a);
const DOT = 0x2e;

/** Doubles a leading ".", ends every line with CRLF (CRLF or bare LF in), and appends "<CRLF>.<CRLF>". */
export function dotStuff(content: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let start = 0;
  while (start < content.length) {
    let lf = content.indexOf(0x0a, start);
    if (lf === -1) lf = content.length;
    const end = lf > start && content[lf - 1] === 0x0d ? lf - 1 : lf;
    if (content[start] === DOT) parts.push(Uint8Array.of(DOT));
    parts.push(content.subarray(start, end), CRLF);
    start = lf + 1;
  }
  parts.push(Uint8Array.of(DOT, 0x0d, 0x0a));
  return concatBytes(parts);
}
