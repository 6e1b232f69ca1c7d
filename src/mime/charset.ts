/**
 * Bytes to text in a MIME charset (RFC 2046 §4.1.2). TextDecoder knows the WHATWG labels; a
 * charset it does not know falls back to UTF-8 when the bytes are valid UTF-8, else Latin-1.
 */

const ALIASES: Record<string, string> = { utf8: "utf-8", "ks_c_5601-1987": "euc-kr" };

/** Labels that promise nothing about 8-bit bytes; mislabelled mail is read as UTF-8 or Latin-1. */
const LENIENT = new Set(["", "us-ascii", "ascii", "x-unknown", "unknown", "default"]);

const decoders = new Map<string, TextDecoder>();
const fatalUtf8 = new TextDecoder("utf-8", { fatal: true });
const latin1 = new TextDecoder("latin1");

function decoderFor(charset: string): TextDecoder | null {
  const name = ALIASES[charset] ?? charset;
  let decoder = decoders.get(name);
  if (decoder) return decoder;
  try {
    decoder = new TextDecoder(name);
  } catch {
    return null;
  }
  decoders.set(name, decoder);
  return decoder;
}

/** Decodes `bytes` in `charset` (absent: UTF-8 or Latin-1); never throws. */
export function decodeCharset(bytes: Uint8Array, charset?: string | null): string {
  const label = (charset ?? "").trim().toLowerCase();
  const decoder = LENIENT.has(label) ? null : decoderFor(label);
  return decoder ? decoder.decode(bytes) : utf8OrLatin1(bytes);
}

/** UTF-8 when the bytes are valid UTF-8 (RFC 6532), else Latin-1. */
export function utf8OrLatin1(bytes: Uint8Array): string {
  return strictUtf8(bytes) ?? latin1.decode(bytes);
}

/** The bytes as UTF-8, or null when they are not valid UTF-8. */
export function strictUtf8(bytes: Uint8Array): string | null {
  try {
    return fatalUtf8.decode(bytes);
  } catch {
    return null;
  }
}
