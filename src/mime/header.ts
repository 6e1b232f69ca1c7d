/**
 * RFC 5322 header blocks on bytes: where the header ends, its fields unfolded, and RFC 2047
 * encoded words decoded for display.
 */

export interface HeaderField {
  /** As written, e.g. "Message-ID". */
  name: string;
  lowerName: string;
  /** Unfolded, after the colon, trimmed; undecoded. */
  value: string;
}

/** Offsets of the end of the header block and the start of the body (after the blank line). */
export function splitHeaderBody(raw: Uint8Array): { headerEnd: number; bodyStart: number } {
  // No header at all: the part starts with its blank line (common in MIME parts).
  if (raw[0] === 0x0a) return { headerEnd: 0, bodyStart: 1 };
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { headerEnd: 0, bodyStart: 2 };
  for (let i = raw.indexOf(0x0a); i !== -1; i = raw.indexOf(0x0a, i + 1)) {
    if (raw[i + 1] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 2 };
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return { headerEnd: i + 1, bodyStart: i + 3 };
  }
  return { headerEnd: raw.length, bodyStart: raw.length };
}

/** The fields of a header block (latin1-safe: 8-bit bytes are read as UTF-8, RFC 6532). */
export function parseHeaderFields(header: Uint8Array): HeaderField[] {
  const text = new TextDecoder().decode(header);
  const fields: HeaderField[] = [];
  let current: string | null = null;
  const flush = () => {
    if (current === null) return;
    const colon = current.indexOf(":");
    if (colon > 0) {
      const name = current.slice(0, colon).trim();
      fields.push({ name, lowerName: name.toLowerCase(), value: current.slice(colon + 1).trim() });
    }
    current = null;
  };
  for (const line of text.split(/\r?\n/)) {
    if (line === "") break;
    // RFC 5322 §2.2.3: a line starting with white space continues the previous field.
    if ((line[0] === " " || line[0] === "\t") && current !== null) current += ` ${line.trim()}`;
    else {
      flush();
      current = line;
    }
  }
  flush();
  return fields;
}

/** The first field with this name, or null. */
export function headerValue(fields: readonly HeaderField[], name: string): string | null {
  const lower = name.toLowerCase();
  return fields.find((f) => f.lowerName === lower)?.value ?? null;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

/** RFC 2047: decodes encoded words; white space between adjacent ones is dropped (§6.2). */
export function decodeEncodedWords(text: string): string {
  const joined = text.replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?)/g, "$1");
  return joined.replace(ENCODED_WORD, (word, charset: string, encoding: string, payload: string) => {
    try {
      const bytes = encoding.toUpperCase() === "B" ? base64Bytes(payload) : qBytes(payload);
      return new TextDecoder(charset.split("*")[0]!.toLowerCase()).decode(bytes);
    } catch {
      return word;
    }
  });
}

function base64Bytes(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

function qBytes(text: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "_") out.push(0x20);
    else if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      out.push(Number.parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else out.push(c.charCodeAt(0));
  }
  return Uint8Array.from(out);
}
