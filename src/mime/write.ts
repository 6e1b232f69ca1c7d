/**
 * Writing MIME: encoded words for header text (RFC 2047), parameters (RFC 2045 §5.1 with RFC 2231
 * for non-ASCII values), folding (RFC 5322 §2.2.3) and the two transfer encodings (RFC 2045 §6.7,
 * §6.8). The inverse of decode.ts, encoded-words.ts and parameters.ts; pure and total.
 */

import { splitHeaderBody } from "./header.ts";

const enc = new TextEncoder();

/** Printable US-ASCII and space only: may stand in a header as it is. */
export const isPrintableAscii = (text: string) => /^[\x20-\x7e]*$/.test(text);

/**
 * UTF-8 text as RFC 2047 B encoded words of at most 75 characters each (§2), split between
 * characters so none is cut (§5), separated by folding white space.
 */
export function encodedWords(text: string): string {
  const words: string[] = [];
  let chunk = "";
  // 75 - "=?UTF-8?B?".length - "?=".length = 63 base64 characters: 45 bytes.
  for (const char of text) {
    if (enc.encode(chunk + char).length > 45) {
      words.push(chunk);
      chunk = "";
    }
    chunk += char;
  }
  if (chunk || words.length === 0) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${btoa(String.fromCharCode(...enc.encode(w)))}?=`).join("\r\n ");
}

/** Unstructured header text (RFC 5322 §3.2.5): as it is when printable ASCII, else encoded words. */
export function unstructured(text: string): string {
  return isPrintableAscii(text) ? text : encodedWords(text);
}

/** A display name (RFC 5322 phrase): a quoted-string when printable ASCII, else encoded words. */
export function phrase(name: string): string {
  return isPrintableAscii(name) ? `"${name.replace(/["\\]/g, "\\$&")}"` : encodedWords(name);
}

const TOKEN = /^[a-zA-Z0-9!#$%&'*+.^_`{|}~-]+$/;

/** `; name=value`, quoted when not a token, as RFC 2231 `name*=UTF-8''…` when not ASCII. */
export function parameter(name: string, value: string): string {
  if (TOKEN.test(value)) return `; ${name}=${value}`;
  if (isPrintableAscii(value)) return `; ${name}="${value.replace(/["\\]/g, "\\$&")}"`;
  const encoded = [...enc.encode(value)].map((b) =>
    /[a-zA-Z0-9!#$&+.^_`|~-]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, "0")}`
  ).join("");
  return `;\r\n ${name}*=UTF-8''${encoded}`;
}

/**
 * A header field `Name: value`, folded before white space so that lines stay within 78 characters
 * where the value allows it (RFC 5322 §2.1.1, §2.2.3); folds already in the value (CRLF WSP) stay.
 */
export function headerField(name: string, value: string): string {
  const lines: string[] = [];
  const head = `${name}:`;
  let line = head;
  for (const [i, segment] of ` ${value}`.split(/\r\n(?=[ \t])/).entries()) {
    if (i > 0) {
      lines.push(line);
      line = "";
    }
    for (const word of segment.split(/(?=[ \t])/)) {
      if (line.length + word.length > 78 && line.trim() !== "" && line !== head) {
        lines.push(line);
        line = "";
      }
      line += word;
    }
  }
  lines.push(line);
  return lines.join("\r\n");
}

/** Base64 in lines of 76 characters (RFC 2045 §6.8), each ending in CRLF. */
export function base64Lines(bytes: Uint8Array): string {
  let b64 = "";
  for (let i = 0; i < bytes.length; i += 0x8000) b64 += btoa(String.fromCharCode(...bytes.subarray(i, i + 0x8000)));
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.map((l) => `${l}\r\n`).join("");
}

/**
 * Quoted-printable (RFC 2045 §6.7) of text whose line breaks are CRLF: the breaks stay, every
 * other octet that is not printable ASCII (and "=", and white space before a break) is `=XX`,
 * lines are cut with soft breaks at 76 characters.
 */
export function quotedPrintable(bytes: Uint8Array): string {
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || (bytes[i] === 0x0d && bytes[i + 1] === 0x0a)) {
      lines.push(qpLine(bytes.subarray(start, i)));
      start = i + 2;
      i++;
    }
  }
  return lines.join("\r\n");
}

function qpLine(line: Uint8Array): string {
  let out = "";
  let width = 0;
  line.forEach((b, i) => {
    const last = i === line.length - 1;
    const literal = (b >= 0x21 && b <= 0x7e && b !== 0x3d) || ((b === 0x20 || b === 0x09) && !last);
    const piece = literal ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, "0")}`;
    if (width + piece.length > 75) {
      out += "=\r\n";
      width = 0;
    }
    out += piece;
    width += piece.length;
  });
  return out;
}

/** 7bit: ASCII without NUL or bare CR/LF, lines of at most 998 octets (RFC 2045 §2.7). */
export function is7bit(bytes: Uint8Array): boolean {
  let width = 0;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0 || b > 0x7f) return false;
    if (b === 0x0d) {
      if (bytes[i + 1] !== 0x0a) return false;
      i++;
      width = 0;
    } else if (b === 0x0a) return false;
    else if (++width > 998) return false;
  }
  return true;
}

/**
 * The message without the header fields named (lower case), folded lines included; every other
 * byte as it was. For Bcc, which a submission must not pass on (RFC 5322 §3.6.3).
 */
export function withoutFields(raw: Uint8Array, names: readonly string[]): Uint8Array {
  const { headerEnd } = splitHeaderBody(raw);
  const kept: Uint8Array[] = [];
  let dropping = false;
  let start = 0;
  while (start < headerEnd) {
    const nl = raw.indexOf(0x0a, start);
    const end = nl === -1 || nl >= headerEnd ? headerEnd : nl + 1;
    const line = raw.subarray(start, end);
    if (line[0] !== 0x20 && line[0] !== 0x09) {
      const name = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/.exec(new TextDecoder("latin1").decode(line.subarray(0, 80)))?.[1];
      dropping = name !== undefined && names.includes(name.toLowerCase());
    }
    if (!dropping) kept.push(line);
    start = end;
  }
  kept.push(raw.subarray(headerEnd));
  const out = new Uint8Array(kept.reduce((n, c) => n + c.length, 0));
  kept.reduce((at, c) => (out.set(c, at), at + c.length), 0);
  return out;
}
