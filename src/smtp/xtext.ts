/** RFC 3461 §4 xtext, used by ENVID and ORCPT: "+" followed by two upper-case hex digits. */

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

export function encodeXtext(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    out += c < 0x21 || c > 0x7e || ch === "+" || ch === "=" ? `+${c.toString(16).toUpperCase().padStart(2, "0")}` : ch;
  }
  return out;
}
