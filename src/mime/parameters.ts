/**
 * Parameterised header values: `text/plain; charset="utf-8"` (RFC 2045 §5.1), with RFC 2231
 * continuations (`name*0=`, `name*1=`) and charset-tagged values (`name*=utf-8''%E2%82%AC`).
 */

export interface Parameterized {
  /** The value before the first ";", lower-case. */
  value: string;
  /** Parameter names lower-case; values unquoted and decoded. */
  params: Record<string, string>;
}

export function parseParameterized(header: string): Parameterized {
  const parts = splitUnquoted(header, ";");
  const value = (parts.shift() ?? "").trim().toLowerCase();
  const pieces = new Map<string, Array<{ index: number; text: string; encoded: boolean }>>();
  const params: Record<string, string> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq <= 0) continue;
    let name = part.slice(0, eq).trim().toLowerCase();
    let raw = part.slice(eq + 1).trim();
    if (raw.startsWith('"')) raw = raw.slice(1, raw.endsWith('"') && raw.length > 1 ? -1 : undefined).replace(/\\(.)/g, "$1");
    const continuation = /^(.+?)\*(\d+)?(\*)?$/.exec(name);
    if (continuation) {
      name = continuation[1]!;
      const list = pieces.get(name) ?? [];
      list.push({ index: Number(continuation[2] ?? 0), text: raw, encoded: continuation[3] === "*" || (continuation[2] === undefined) });
      pieces.set(name, list);
    } else if (!(name in params)) {
      params[name] = raw;
    }
  }
  for (const [name, list] of pieces) {
    list.sort((a, b) => a.index - b.index);
    params[name] = decode2231(list);
  }
  return { value, params };
}

/** Joins RFC 2231 §3-4 pieces; the first encoded piece may carry `charset'language'`. */
function decode2231(list: Array<{ text: string; encoded: boolean }>): string {
  let charset = "utf-8";
  const bytes: number[] = [];
  list.forEach((piece, i) => {
    let text = piece.text;
    if (piece.encoded && i === 0) {
      const m = /^([^']*)'[^']*'(.*)$/.exec(text);
      if (m) {
        charset = m[1] || charset;
        text = m[2]!;
      }
    }
    for (let j = 0; j < text.length; j++) {
      if (piece.encoded && text[j] === "%" && /^[0-9A-Fa-f]{2}$/.test(text.slice(j + 1, j + 3))) {
        bytes.push(Number.parseInt(text.slice(j + 1, j + 3), 16));
        j += 2;
      } else {
        for (const b of new TextEncoder().encode(text[j]!)) bytes.push(b);
      }
    }
  });
  try {
    return new TextDecoder(charset.toLowerCase()).decode(Uint8Array.from(bytes));
  } catch {
    return new TextDecoder().decode(Uint8Array.from(bytes));
  }
}

/** Splits on `separator` outside double quotes. */
function splitUnquoted(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && quoted) {
      current += c + (text[++i] ?? "");
      continue;
    }
    if (c === '"') quoted = !quoted;
    if (c === separator && !quoted) {
      out.push(current);
      current = "";
    } else current += c;
  }
  out.push(current);
  return out;
}
