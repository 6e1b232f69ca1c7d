/**
 * Content-Transfer-Encoding decoders (RFC 2045 §6.7 quoted-printable, §6.8 base64), lenient
 * about what real mail gets wrong, for IMAP BINARY, JMAP blobs and previews. Linear, never throw.
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

const BASE64 = new Int8Array(256).fill(-1);
for (let i = 0; i < 64; i++) {
  BASE64["ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".charCodeAt(i)] = i;
}
// RFC 4648 §5 base64url letters, which some senders use by mistake.
BASE64[0x2d] = 62;
BASE64[0x5f] = 63;

/** Base64 to bytes; characters outside the alphabet (line breaks, junk) are skipped. */
export function decodeBase64Bytes(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(Math.floor((body.length * 3) / 4) + 3);
  let n = 0;
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    // Padding ends a quantum; carry on, as some senders concatenate separately encoded chunks.
    if (b === 0x3d) {
      bits = 0;
      continue;
    }
    const v = BASE64[b]!;
    if (v < 0) continue;
    acc = ((acc << 6) | v) & 0xffffff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[n++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, n);
}

function hex(b: number | undefined): number {
  if (b === undefined) return -1;
  if (b >= 0x30 && b <= 0x39) return b - 0x30;
  if (b >= 0x41 && b <= 0x46) return b - 0x37;
  if (b >= 0x61 && b <= 0x66) return b - 0x57;
  return -1;
}

/**
 * Quoted-printable to bytes; "=" before a line break is a soft break, a malformed "=" is kept, and
 * white space at the end of a line is dropped (RFC 2045 §6.7 rule 3: transport added it).
 */
export function decodeQuotedPrintable(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length);
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === 0x20 || b === 0x09) {
      let j = i + 1;
      while (body[j] === 0x20 || body[j] === 0x09) j++;
      if (j === body.length || body[j] === 0x0a || (body[j] === 0x0d && body[j + 1] === 0x0a)) {
        i = j - 1;
        continue;
      }
      // The run is followed by text: copy it whole, so each blank is looked at once.
      while (i < j) out[n++] = body[i++]!;
      i = j - 1;
      continue;
    }
    if (b !== 0x3d) {
      out[n++] = b;
      continue;
    }
    // RFC 2045 §6.7 rule 3: transport padding (trailing white space) may sit before the break.
    let j = i + 1;
    while (body[j] === 0x20 || body[j] === 0x09) j++;
    if (body[j] === 0x0d && body[j + 1] === 0x0a) i = j + 1;
    else if (body[j] === 0x0a) i = j;
    else if (j === body.length) i = j;
    else if (hex(body[i + 1]) >= 0 && hex(body[i + 2]) >= 0) {
      out[n++] = hex(body[i + 1]) * 16 + hex(body[i + 2]);
      i += 2;
    } else out[n++] = b;
  }
  return out.subarray(0, n);
}
