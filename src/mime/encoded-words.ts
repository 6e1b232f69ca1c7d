/**
 * RFC 2047 encoded words (`=?charset?B|Q?text?=`) in header text, decoded for display.
 * Lenient like mail readers: words are found anywhere, not only between spaces.
 */
import { concatBytes } from "../util/bytes.ts";
import { decodeCharset } from "./charset.ts";
import { decodeBase64Bytes } from "./decode.ts";

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
const enc = new TextEncoder();

/**
 * Decodes every encoded word in `text`. White space between adjacent encoded words is dropped
 * (RFC 2047 §6.2), and adjacent words in one charset are joined as bytes before decoding, so a
 * character split across two words survives.
 */
export function decodeEncodedWords(text: string): string {
  if (!text.includes("=?")) return text;
  let out = "";
  let last = 0;
  // The run of adjacent words in one charset not yet decoded.
  let charset: string | null = null;
  let chunks: Uint8Array[] = [];
  for (const m of text.matchAll(ENCODED_WORD)) {
    const gap = text.slice(last, m.index);
    // RFC 2231 §5: "charset*language".
    const wordCharset = m[1]!.split("*")[0]!.toLowerCase();
    const adjacent = charset !== null && /^[ \t\r\n]*$/.test(gap);
    if (!adjacent || wordCharset !== charset) {
      if (charset !== null) out += decodeCharset(concatBytes(chunks), charset);
      if (!adjacent) out += gap;
      charset = wordCharset;
      chunks = [];
    }
    const payload = m[3]!;
    chunks.push(m[2]!.toUpperCase() === "B" ? decodeBase64Bytes(enc.encode(payload)) : qBytes(payload));
    last = m.index + m[0].length;
  }
  if (charset !== null) out += decodeCharset(concatBytes(chunks), charset);
  return out + text.slice(last);
}

/** The "Q" encoding (RFC 2047 §4.2): "_" is a space, "=XX" a byte. */
function qBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const pair = c === 0x3d ? text.slice(i + 1, i + 3) : "";
    if (c === 0x5f) out.push(0x20);
    else if (pair !== "" && /^[0-9A-Fa-f]{2}$/.test(pair)) {
      out.push(Number.parseInt(pair, 16));
      i += 2;
    } else if (c < 0x80) out.push(c);
    else out.push(...enc.encode(text[i]!));
  }
  return Uint8Array.from(out);
}
