/**
 * RFC 3461 §4 xtext, used by ENVID, ORCPT and the AUTH= parameter of MAIL (RFC 4954 §5):
 *
 *     xtext   = *( xchar / hexchar )
 *     xchar   = any ASCII CHAR between "!" (33) and "~" (126) inclusive, except "+" and "="
 *     hexchar = "+" two upper-case hexadecimal digits
 *
 * A hexchar can stand for any octet, CR and LF included, so a decoded value is never written into
 * a message before `isPrintableAscii` (or a stricter check) has passed.
 */

/** The decoded text, or null when `text` is not xtext. */
export function decodeXtext(text: string): string | null {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x2b) {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-F]{2}$/.test(hex)) return null;
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 2;
    } else if (c < 0x21 || c > 0x7e || c === 0x3d) {
      return null; // "=" and anything outside printable ASCII must be encoded
    } else {
      out += text[i];
    }
  }
  return out;
}

/** Printable US-ASCII, space included (RFC 3461 §4.2, §4.4): no control character, no CR or LF, no 8-bit. */
export function isPrintableAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/** `decodeXtext`, then null unless the decoded value is printable US-ASCII (what Postfix checks). */
export function decodePrintableXtext(text: string): string | null {
  const decoded = decodeXtext(text);
  return decoded !== null && isPrintableAscii(decoded) ? decoded : null;
}

/** RFC 3461 §4.2: the addr-type of ORCPT is an RFC 5322 atom (e.g. "rfc822", "utf-8"). */
export function isAddrType(text: string): boolean {
  return /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~]+$/.test(text);
}

/** Each octet of the UTF-8 text that is not an xchar becomes a hexchar. */
export function encodeXtext(text: string): string {
  let out = "";
  for (const c of new TextEncoder().encode(text)) {
    out += c < 0x21 || c > 0x7e || c === 0x2b || c === 0x3d
      ? `+${c.toString(16).toUpperCase().padStart(2, "0")}`
      : String.fromCharCode(c);
  }
  return out;
}
