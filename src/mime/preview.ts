/**
 * The JMAP Email preview (RFC 8621 §4.1.4): up to 256 characters of the message's text, from
 * its first text/plain body part, else its first HTML part with the markup removed; white
 * space collapsed. Only the start of a large part is decoded.
 */
import { decodeCharset } from "./charset.ts";
import { decodeTransfer } from "./decode.ts";
import type { MimePart } from "./structure.ts";

export const PREVIEW_LENGTH = 256;
/** Raw bytes read from a text part; HTML gets more, as markup and styles come first. */
const TEXT_WINDOW = 16 * 1024;
const HTML_WINDOW = 256 * 1024;

export function preview(raw: Uint8Array, textParts: readonly MimePart[], htmlParts: readonly MimePart[]): string {
  const plain = textParts.find((p) => p.type === "text" && p.subtype === "plain");
  const html = plain ? undefined : [...textParts, ...htmlParts].find((p) => p.type === "text" && p.subtype === "html");
  const part = plain ?? html;
  if (!part) return "";
  const text = partText(raw, part, part === plain ? TEXT_WINDOW : HTML_WINDOW);
  // PREVIEW_LENGTH characters are code points (a surrogate pair is one), so at most twice as many UTF-16 units.
  const collapsed = collapseStart(part === plain ? text : htmlToText(text), PREVIEW_LENGTH * 2);
  return firstCodePoints(collapsed, PREVIEW_LENGTH);
}

/** The first `count` code points of `text`: a surrogate pair counts as one, a lone surrogate as one. */
function firstCodePoints(text: string, count: number): string {
  let end = 0;
  for (let n = 0; n < count && end < text.length; n++) {
    const unit = text.charCodeAt(end++);
    const low = text.charCodeAt(end);
    if (unit >= 0xd800 && unit <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) end++;
  }
  return text.slice(0, end);
}

/**
 * The start of `text` with white space collapsed, at least `length` characters of it when there are: a growing
 * prefix is collapsed rather than the whole text, which is the same at the start (a cut run of white space
 * still becomes one space).
 */
export function collapseStart(text: string, length: number): string {
  // Line breaks and runs of spaces shrink most text by a few percent: start a quarter above `length`.
  for (let window = Math.ceil(length * 1.25);; window *= 4) {
    const collapsed = text.slice(0, window).replace(/\s+/g, " ").trim();
    if (collapsed.length >= length || window >= text.length) return collapsed;
  }
}

/** The start of a text part's content, transfer encoding and charset undone. */
export function partText(raw: Uint8Array, part: MimePart, window = Number.POSITIVE_INFINITY): string {
  const end = Math.min(part.bodyEnd, part.bodyStart + window);
  return decodeCharset(decodeTransfer(raw.subarray(part.bodyStart, end), part.encoding), part.params.charset);
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

/** Text of an HTML document: no head, script, style or comments, tags dropped, entities decoded. Linear. */
export function htmlToText(html: string): string {
  let out = "";
  let i = 0;
  const lower = html.toLowerCase();
  while (i < html.length) {
    const lt = html.indexOf("<", i);
    if (lt === -1) {
      out += html.slice(i);
      break;
    }
    out += html.slice(i, lt);
    let skipTo: string | null = null;
    if (lower.startsWith("<!--", lt)) skipTo = "-->";
    else {
      const tag = /^<(script|style|head|title)\b/.exec(lower.slice(lt, lt + 8));
      if (tag) skipTo = `</${tag[1]}`;
    }
    const close = skipTo ? lower.indexOf(skipTo, lt + 1) : lt;
    if (close === -1) break;
    const gt = html.indexOf(">", close);
    if (gt === -1) break;
    out += " ";
    i = gt + 1;
  }
  return out.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,6});/gi, (entity, name: string) => {
    if (name[0] === "#") {
      const code = name[1] === "x" || name[1] === "X" ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1));
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : entity;
    }
    return ENTITIES[name.toLowerCase()] ?? entity;
  });
}
