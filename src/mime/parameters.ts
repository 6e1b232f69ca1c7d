/**
 * Parameterised header values: `text/plain; charset="utf-8"` (RFC 2045 §5.1), with RFC 2231
 * continuations (`name*0=`, `name*1=`) and charset-tagged values (`name*=utf-8''%E2%82%AC`).
 */
import { stripComments } from "./comments.ts";
import { decodeCharset } from "./charset.ts";

export interface Parameterized {
  /** The value before the first ";", lower-case, e.g. "text/plain". */
  value: string;
  /** Parameter names lower-case; values unquoted, continuations joined, RFC 2231 decoded. */
  params: Record<string, string>;
}

interface Segment {
  index: number;
  text: string;
  encoded: boolean;
}

const enc = new TextEncoder();
const RFC2231_NAME = /^(.+?)(?:\*(\d{1,3}))?(\*)?$/;

export function parseParameterized(header: string): Parameterized {
  const parts = splitUnquoted(header);
  const value = stripComments(parts.shift() ?? "").trim().toLowerCase();
  const plain = new Map<string, string>();
  const extended = new Map<string, Segment[]>();
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const text = unquote(part.slice(eq + 1).trim());
    // RFC 2231 §3, §4: "name*N" is segment N, a trailing "*" marks a charset/percent-encoded value.
    const m = name.includes("*") ? RFC2231_NAME.exec(name) : null;
    if (m && (m[2] !== undefined || m[3] !== undefined)) {
      const list = extended.get(m[1]!) ?? [];
      list.push({ index: Number(m[2] ?? 0), text, encoded: m[3] !== undefined });
      extended.set(m[1]!, list);
    } else if (!plain.has(name)) plain.set(name, text);
  }
  const params: Record<string, string> = {};
  for (const [name, text] of plain) params[name] = text;
  for (const [name, segments] of extended) params[name] = joinSegments(segments);
  return { value, params };
}

/** Joins RFC 2231 segments in order; the first, if encoded, may start with `charset'language'`. */
function joinSegments(segments: Segment[]): string {
  segments.sort((a, b) => a.index - b.index);
  let charset = "utf-8";
  const bytes: number[] = [];
  segments.forEach((segment, i) => {
    let text = segment.text;
    if (segment.encoded && i === 0) {
      const m = /^([^']*)'[^']*'([^]*)$/.exec(text);
      if (m) {
        charset = m[1] || charset;
        text = m[2]!;
      }
    }
    for (let j = 0; j < text.length; j++) {
      const pair = text.slice(j + 1, j + 3);
      if (segment.encoded && text[j] === "%" && /^[0-9A-Fa-f]{2}$/.test(pair)) {
        bytes.push(Number.parseInt(pair, 16));
        j += 2;
      } else {
        const c = text.charCodeAt(j);
        if (c < 0x80) bytes.push(c);
        else bytes.push(...enc.encode(text[j]!));
      }
    }
  });
  return decodeCharset(Uint8Array.from(bytes), charset);
}

function unquote(text: string): string {
  // Unquoted values are kept as written: "(" in a bare file name is more common than a comment.
  if (!text.startsWith('"')) return text;
  const close = text.indexOf('"', 1);
  if (close !== -1 && !text.includes("\\")) return text.slice(1, close);
  let out = "";
  for (let i = 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && i + 1 < text.length) out += text[++i];
    else if (c === '"') break;
    else out += c;
  }
  return out;
}

/** Splits on ";" outside double quotes. */
function splitUnquoted(text: string): string[] {
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === ";" && !quoted) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out;
}
