/**
 * Content-Transfer-Encoding decoders (RFC 2045 §6.7 quoted-printable, §6.8 base64), lenient
 * about what real mail gets wrong, for IMAP BINARY and JMAP blob downloads.
 */

export function decodeTransfer(body: Uint8Array, encoding: string): Uint8Array {
  switch (encoding.toLowerCase()) {
    case "base64":
      return decodeBase64Bytes(body);
    case "quoted-printable":
      return decodeQuotedPrintable(body);
    default:
      return body;
  }
}

export function decodeBase64Bytes(body: Uint8Array): Uint8Array {
  const text = new TextDecoder("latin1").decode(body).replace(/[^A-Za-z0-9+/]/g, "");
  const usable = text.slice(0, text.length - (text.length % 4 === 1 ? 1 : 0));
  const padded = usable + "=".repeat((4 - (usable.length % 4)) % 4);
  return Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
}

export function decodeQuotedPrintable(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length);
  let n = 0;
  const hex = (b: number | undefined) =>
    b === undefined ? -1 : b >= 0x30 && b <= 0x39 ? b - 0x30 : b >= 0x41 && b <= 0x46 ? b - 0x37 : b >= 0x61 && b <= 0x66 ? b - 0x57 : -1;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b !== 0x3d) {
      out[n++] = b;
      continue;
    }
    // "=" CRLF (or LF) is a soft line break; "=XX" a byte; anything else is kept as is.
    if (body[i + 1] === 0x0d && body[i + 2] === 0x0a) i += 2;
    else if (body[i + 1] === 0x0a) i += 1;
    else if (hex(body[i + 1]) >= 0 && hex(body[i + 2]) >= 0) {
      out[n++] = hex(body[i + 1]) * 16 + hex(body[i + 2]);
      i += 2;
    } else out[n++] = b;
  }
  return out.subarray(0, n);
}
