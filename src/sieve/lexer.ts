/**
 * RFC 5228 §8.1 lexical tokens: identifiers, tags, numbers with K/M/G quantifiers, quoted strings, multi-line
 * `text:` strings, and the punctuation of the grammar. White space and both comment forms are skipped. Every token
 * carries the line and column (1-based) where it starts; a lexical error is a value, never an exception.
 */
import { type Position, SieveError } from "./errors.ts";

export type Token =
  | { kind: "identifier"; value: string; pos: Position }
  | { kind: "tag"; value: string; pos: Position }
  | { kind: "number"; value: number; pos: Position }
  | { kind: "string"; value: string; pos: Position }
  | { kind: "punct"; value: "[" | "]" | "(" | ")" | "{" | "}" | "," | ";"; pos: Position }
  | { kind: "end"; pos: Position };

const PUNCT = "[](){},;";
/** RFC 5228 §2.4.1: implementations must handle numbers up to 2^31 - 1; larger ones are refused here. */
export const MAX_NUMBER = 2 ** 53 - 1;
const QUANTIFIER: Record<string, number> = { k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

const isAlpha = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_";
const isDigit = (c: string) => c >= "0" && c <= "9";

/** Splits a script into tokens; the last token is always `end`. */
export function tokenize(source: string): Token[] | SieveError {
  const tokens: Token[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const here = (): Position => ({ line, column: i - lineStart + 1 });
  const newline = () => {
    line++;
    lineStart = i + 1;
  };

  while (i < source.length) {
    const c = source[i]!;
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "\n") {
      newline();
      i++;
      continue;
    }
    const pos = here();
    if (c === "#") {
      while (i < source.length && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      // RFC 5228 §2.3: bracketed comments do not nest; an unterminated one is an error.
      const end = source.indexOf("*/", i + 2);
      if (end === -1) return new SieveError(pos, "unterminated comment");
      for (let j = i; j < end; j++) {
        if (source[j] === "\n") {
          i = j;
          newline();
        }
      }
      i = end + 2;
      continue;
    }
    if (PUNCT.includes(c)) {
      tokens.push({ kind: "punct", value: c as "[", pos });
      i++;
      continue;
    }
    if (c === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= source.length) return new SieveError(pos, "unterminated string");
        const d = source[i]!;
        if (d === '"') break;
        // RFC 5228 §2.4.2: "\\" and "\"" are escapes; any other backslash is dropped.
        if (d === "\\" && i + 1 < source.length) {
          i++;
          const e = source[i]!;
          if (e === "\n") newline();
          value += e;
        } else {
          if (d === "\n") newline();
          value += d;
        }
        i++;
      }
      i++;
      tokens.push({ kind: "string", value: value.replace(/\r\n/g, "\n").replace(/\n/g, "\r\n"), pos });
      continue;
    }
    if (isDigit(c)) {
      let j = i;
      while (j < source.length && isDigit(source[j]!)) j++;
      let value = Number(source.slice(i, j));
      const q = QUANTIFIER[(source[j] ?? "").toLowerCase()];
      if (q !== undefined) {
        value *= q;
        j++;
      }
      if (j < source.length && (isAlpha(source[j]!) || isDigit(source[j]!))) {
        return new SieveError(pos, `invalid number '${source.slice(i, j + 1)}'`);
      }
      if (value > MAX_NUMBER) return new SieveError(pos, "number is too large");
      tokens.push({ kind: "number", value, pos });
      i = j;
      continue;
    }
    if (c === ":") {
      let j = i + 1;
      if (j >= source.length || !isAlpha(source[j]!)) return new SieveError(pos, "a tag needs a name after ':'");
      while (j < source.length && (isAlpha(source[j]!) || isDigit(source[j]!))) j++;
      tokens.push({ kind: "tag", value: source.slice(i + 1, j).toLowerCase(), pos });
      i = j;
      continue;
    }
    if (isAlpha(c)) {
      let j = i;
      while (j < source.length && (isAlpha(source[j]!) || isDigit(source[j]!))) j++;
      const word = source.slice(i, j).toLowerCase();
      if (word === "text" && source[j] === ":") {
        const text = multiLine(source, j + 1);
        if (text instanceof SieveError) {
          return new SieveError(text.line === 0 ? pos : { line: line + text.line, column: text.column }, text.detail);
        }
        tokens.push({ kind: "string", value: text.value, pos });
        for (let k = i; k < text.end; k++) {
          if (source[k] === "\n") {
            i = k;
            newline();
          }
        }
        i = text.end;
        continue;
      }
      tokens.push({ kind: "identifier", value: word, pos });
      i = j;
      continue;
    }
    return new SieveError(pos, `unexpected character '${printable(c)}'`);
  }
  tokens.push({ kind: "end", pos: here() });
  return tokens;
}

/**
 * RFC 5228 §2.4.2 / §8.1 multi-line: "text:" *(SP / HTAB) (hash-comment / CRLF), then lines up to a line holding
 * only "."; a leading ".." is unstuffed to ".". Errors carry a line offset relative to the "text:" line.
 */
function multiLine(source: string, start: number): { value: string; end: number } | SieveError {
  let i = start;
  while (source[i] === " " || source[i] === "\t") i++;
  if (source[i] === "#") { while (i < source.length && source[i] !== "\n") i++; }
  else if (source[i] === "\r" && source[i + 1] === "\n") i++;
  if (source[i] !== "\n") return new SieveError({ line: 0, column: 0 }, "'text:' must be followed by a line break");
  i++;
  const lines: string[] = [];
  for (;;) {
    if (i >= source.length) return new SieveError({ line: 0, column: 0 }, "unterminated multi-line string");
    let lf = source.indexOf("\n", i);
    if (lf === -1) lf = source.length;
    let text = source.slice(i, lf);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    i = lf + 1;
    if (text === ".") break;
    lines.push(text.startsWith("..") ? text.slice(1) : text);
  }
  return { value: lines.map((l) => l + "\r\n").join(""), end: Math.min(i, source.length) };
}

function printable(c: string): string {
  const code = c.codePointAt(0)!;
  return code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, "0")}` : c;
}
