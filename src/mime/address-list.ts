/**
 * RFC 5322 §3.4 address lists: display names (quoted or not, RFC 2047-encoded), comments,
 * angle addresses, groups. Lenient, as mail in the wild requires; never throws.
 */
import { decodeEncodedWords } from "./header.ts";

export interface NamedAddress {
  name: string | null;
  address: string;
}

export type AddressListEntry = NamedAddress | { group: string; addresses: NamedAddress[] };

/** `decode: false` keeps display names as written (IMAP ENVELOPE sends them undecoded). */
export function parseAddressList(value: string, options: { decode?: boolean } = {}): AddressListEntry[] {
  const decode = options.decode === false ? (s: string) => s : decodeEncodedWords;
  const out: AddressListEntry[] = [];
  const tokens = tokenize(value);
  let group: { group: string; addresses: NamedAddress[] } | null = null;
  let words: string[] = [];
  let angle: string | null = null;

  const finish = () => {
    const text = words.join(" ").trim();
    let entry: NamedAddress | null = null;
    if (angle !== null) entry = { name: text ? decode(text) : null, address: angle };
    else if (text.includes("@")) entry = { name: null, address: text.replace(/\s+/g, "") };
    if (entry && entry.address) (group ? group.addresses : out).push(entry as NamedAddress);
    words = [];
    angle = null;
  };

  for (const token of tokens) {
    if (token.kind === "angle") angle = token.text.trim();
    else if (token.kind === "special" && token.text === ",") finish();
    else if (token.kind === "special" && token.text === ":" && !group && angle === null) {
      group = { group: decode(words.join(" ").trim()), addresses: [] };
      words = [];
    } else if (token.kind === "special" && token.text === ";" && group) {
      finish();
      out.push(group);
      group = null;
    } else if (token.kind === "word") words.push(token.text);
  }
  finish();
  if (group) out.push(group);
  return out;
}

type Token = { kind: "word" | "angle" | "special"; text: string };

function tokenize(value: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c === "(") {
      // Comments nest (RFC 5322 §3.2.2) and are dropped.
      let depth = 0;
      for (; i < value.length; i++) {
        if (value[i] === "\\") i++;
        else if (value[i] === "(") depth++;
        else if (value[i] === ")" && --depth === 0) break;
      }
      i++;
    } else if (c === '"') {
      let text = "";
      for (i++; i < value.length && value[i] !== '"'; i++) text += value[i] === "\\" ? value[++i] ?? "" : value[i];
      tokens.push({ kind: "word", text });
      i++;
    } else if (c === "<") {
      const end = value.indexOf(">", i);
      const inner = value.slice(i + 1, end === -1 ? value.length : end);
      // Obsolete route addresses "<@a,@b:user@host>" keep only the address.
      tokens.push({ kind: "angle", text: inner.includes(":") && inner.startsWith("@") ? inner.slice(inner.indexOf(":") + 1) : inner });
      i = end === -1 ? value.length : end + 1;
    } else if (c === "," || c === ":" || c === ";") {
      tokens.push({ kind: "special", text: c });
      i++;
    } else if (/\s/.test(c)) i++;
    else {
      let text = "";
      while (i < value.length && !/[\s"(<,:;]/.test(value[i]!)) text += value[i++];
      tokens.push({ kind: "word", text });
    }
  }
  return tokens;
}
