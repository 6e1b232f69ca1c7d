/**
 * Mailbox names on the wire: modified UTF-7 (RFC 3501 §5.1.3) unless the client enabled
 * UTF8=ACCEPT (RFC 6855), and "INBOX" in any case meaning INBOX (RFC 9051 §5.1).
 */

/** Decodes a modified UTF-7 name; null when it is not valid modified UTF-7. */
export function decodeMailboxName(wire: string): string | null {
  let out = "";
  for (let i = 0; i < wire.length; i++) {
    const c = wire[i]!;
    if (c.charCodeAt(0) > 0x7e || c.charCodeAt(0) < 0x20) return null;
    if (c !== "&") {
      out += c;
      continue;
    }
    const end = wire.indexOf("-", i);
    if (end === -1) return null;
    if (end === i + 1) {
      out += "&"; // "&-" is "&"
      i = end;
      continue;
    }
    const b64 = wire.slice(i + 1, end).replaceAll(",", "/");
    // 4n+1 base64 letters encode no whole octet: not valid (and atob would throw).
    if (!/^[A-Za-z0-9+/]+$/.test(b64) || b64.length % 4 === 1) return null;
    const bytes = Uint8Array.from(atob(b64 + "=".repeat((4 - (b64.length % 4)) % 4)), (ch) => ch.charCodeAt(0));
    if (bytes.length % 2 !== 0) return null;
    for (let j = 0; j < bytes.length; j += 2) out += String.fromCharCode((bytes[j]! << 8) | bytes[j + 1]!);
    i = end;
  }
  return out;
}

/** Encodes a name as modified UTF-7: printable ASCII as is, "&" as "&-", the rest as UTF-16 in base64 with "," for "/". */
export function encodeMailboxName(name: string): string {
  let out = "";
  let pending: number[] = [];
  const flush = () => {
    if (pending.length === 0) return;
    const bytes = pending.flatMap((u) => [u >> 8, u & 0xff]);
    out += `&${btoa(String.fromCharCode(...bytes)).replace(/=+$/, "").replaceAll("/", ",")}-`;
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const unit = name.charCodeAt(i);
    if (unit >= 0x20 && unit <= 0x7e) {
      flush();
      out += unit === 0x26 ? "&-" : name[i];
    } else pending.push(unit);
  }
  flush();
  return out;
}

/** The name as stored: INBOX normalised, the rest as given. */
export function normalizeMailboxName(name: string): string {
  return name.toUpperCase() === "INBOX" ? "INBOX" : name;
}

/** A wire name to a stored name; null when the name is not valid for this session. */
export function mailboxFromWire(wire: string, utf8Accept: boolean): string | null {
  const name = utf8Accept ? wire : decodeMailboxName(wire);
  return name === null ? null : normalizeMailboxName(name);
}

export function mailboxToWire(name: string, utf8Accept: boolean): string {
  return utf8Accept ? name : encodeMailboxName(name);
}
