/**
 * RFC 5322 §3.4 address lists: display names (atoms or quoted strings, RFC 2047-encoded or
 * not), comments, angle addresses with obsolete routes (§4.4), and groups. Lenient, as mail in
 * the wild requires; linear; never throws.
 */
import { decodeEncodedWords } from "./encoded-words.ts";

export interface NamedAddress {
  /** The display name; when there is none, a comment after the address (RFC 8621 §4.1.2.3). */
  name: string | null;
  /** The addr-spec, e.g. "jane@example.test"; a quoted local part keeps its quotes. */
  address: string;
  /** An obsolete source route before it, e.g. "@relay1,@relay2" (RFC 5322 §4.4; IMAP's adl). */
  route?: string;
}

export interface AddressGroup {
  group: string;
  addresses: NamedAddress[];
}

export type AddressListEntry = NamedAddress | AddressGroup;

type Token =
  | { kind: "word"; text: string; raw: string; glued: boolean }
  | { kind: "comment"; text: string }
  | { kind: "angle"; text: string; route: string | null }
  | { kind: "special"; text: "," | ":" | ";" };

/**
 * Parses an address-list header value. Names are RFC 2047-decoded unless `decode` is false
 * (IMAP ENVELOPE sends them as written).
 */
export function parseAddressList(value: string, options: { decode?: boolean } = {}): AddressListEntry[] {
  const decode = options.decode === false ? (s: string) => s : decodeEncodedWords;
  const out: AddressListEntry[] = [];
  let group: AddressGroup | null = null;
  let words: Array<Extract<Token, { kind: "word" }>> = [];
  let angle: string | null = null;
  let route: string | null = null;
  let comment: string | null = null;

  const reset = () => {
    words = [];
    angle = null;
    route = null;
    comment = null;
  };
  const finish = () => {
    const entry = mailbox(words, angle, comment, decode);
    if (entry && route !== null) entry.route = route;
    if (entry) (group ? group.addresses : out).push(entry);
    reset();
  };

  for (const token of tokenize(value)) {
    if (token.kind === "word") words.push(token);
    else if (token.kind === "comment") comment = token.text;
    else if (token.kind === "angle") {
      if (angle === null) route = token.route;
      angle ??= token.text;
    } else if (token.text === ",") finish();
    else if (token.text === ":" && !group && angle === null) {
      group = { group: decode(phrase(words)), addresses: [] };
      reset();
    } else if (token.text === ";") {
      finish();
      if (group) out.push(group);
      group = null;
    }
  }
  finish();
  if (group) out.push(group);
  return out;
}

function mailbox(
  words: Array<Extract<Token, { kind: "word" }>>,
  angle: string | null,
  comment: string | null,
  decode: (s: string) => string,
): NamedAddress | null {
  let nameWords = words;
  let address = angle;
  if (address === null) {
    // No angle brackets: the addr-spec is the last run of adjoining words with an "@" (or the
    // last run at all, for a bare local name); words before it are taken as a display name.
    const runs: Array<{ from: number; raw: string }> = [];
    words.forEach((w, i) => {
      const last = runs.at(-1);
      // CFWS may sit around "@" and "." of an addr-spec (RFC 5322 §3.4.1): "joe (x) @ example.com".
      const joins = last && (/[@.]$/.test(last.raw) || /^[@.]/.test(w.raw));
      if (last && (w.glued || joins)) last.raw += w.raw;
      else runs.push({ from: i, raw: w.raw });
    });
    const run = runs.findLast((r) => r.raw.includes("@")) ?? runs.at(-1);
    if (!run) return null;
    address = run.raw;
    nameWords = words.slice(0, run.from);
  }
  if (address === "") return null;
  const text = phrase(nameWords);
  const name = text !== "" ? text : comment?.trim() || null;
  return { name: name === null ? null : decode(name), address };
}

/** Words of a display name joined by single spaces (RFC 5322 §3.2.5 phrase, obsolete "." included). */
function phrase(words: Array<Extract<Token, { kind: "word" }>>): string {
  let out = "";
  for (const w of words) out += out !== "" && !w.glued ? ` ${w.text}` : w.text;
  return out.trim();
}

/** White space and the specials that end an atom here ("@" and "." belong to it). */
const WORD_END = new Set(Array.from(' \t\r\n"(),:;<>', (c) => c.charCodeAt(0)));

function tokenize(value: string): Token[] {
  const tokens: Token[] = [];
  let glued = false;
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c === " " || c === "\t" || c === "\r" || c === "\n") {
      i++;
      glued = false;
      continue;
    }
    if (c === "(") {
      const [text, end] = readComment(value, i);
      tokens.push({ kind: "comment", text });
      i = end;
      glued = false;
      continue;
    }
    if (c === '"') {
      const [text, end] = readQuoted(value, i);
      tokens.push({ kind: "word", text, raw: value.slice(i, end), glued });
      i = end;
    } else if (c === "<") {
      const [text, end, route] = readAngle(value, i);
      tokens.push({ kind: "angle", text, route });
      i = end;
    } else if (c === "," || c === ":" || c === ";") {
      tokens.push({ kind: "special", text: c });
      i++;
    } else if (c === ">" || c === ")") {
      // A stray closer: skip it (an atom cannot start with a special, so it would never advance).
      i++;
    } else {
      let end = i;
      while (end < value.length && !WORD_END.has(value.charCodeAt(end))) {
        // A domain literal "[IPv6:...]" may hold ":".
        if (value[end] === "[") {
          const close = value.indexOf("]", end);
          end = close === -1 ? value.length : close + 1;
        } else end++;
      }
      const text = value.slice(i, end);
      tokens.push({ kind: "word", text, raw: text, glued });
      i = end;
    }
    glued = true;
  }
  return tokens;
}

/** A quoted string's content with quoted-pairs undone, and the offset after it. */
function readQuoted(value: string, start: number): [string, number] {
  let text = "";
  for (let i = start + 1; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\" && i + 1 < value.length) text += value[++i];
    else if (c === '"') return [text, i + 1];
    else if (c !== "\r" && c !== "\n") text += c;
  }
  return [text, value.length];
}

/** A comment's content (nested comments kept as text), and the offset after it. */
function readComment(value: string, start: number): [string, number] {
  let text = "";
  let depth = 0;
  for (let i = start; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\" && i + 1 < value.length) text += value[++i];
    else if (c === "(" && depth++ === 0) continue;
    else if (c === ")" && --depth === 0) return [text, i + 1];
    else text += c;
  }
  return [text, value.length];
}

/** The addr-spec inside "<...>" without white space or comments, and its obsolete route apart. */
function readAngle(value: string, start: number): [string, number, string | null] {
  let text = "";
  let i = start + 1;
  const close = value.indexOf(">", i);
  const inner = value.slice(i, close === -1 ? value.length : close);
  // Most are a bare addr-spec: nothing to drop, and no quoted string or comment that could hold a ">".
  if (!/[\s"(]/.test(inner)) {
    text = inner;
    i += inner.length;
  }
  while (i < value.length && value[i] !== ">") {
    const c = value[i]!;
    if (c === '"') {
      const end = readQuoted(value, i)[1];
      text += value.slice(i, end);
      i = end;
    } else if (c === "(") i = readComment(value, i)[1];
    else {
      if (!/\s/.test(c)) text += c;
      i++;
    }
  }
  // RFC 5322 §4.4 obs-angle-addr: "<@relay1,@relay2:user@host>".
  let route: string | null = null;
  if (text.startsWith("@") && text.includes(":")) {
    route = text.slice(0, text.indexOf(":"));
    text = text.slice(text.indexOf(":") + 1);
  }
  return [text, Math.min(i + 1, value.length), route];
}
