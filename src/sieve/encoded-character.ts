/**
 * RFC 5228 §2.4.2.4 encoded characters: "${hex:40 41}" (octets, read as UTF-8) and "${unicode:1F600}" (code
 * points). A sequence that does not follow the syntax is left as written.
 */
const ENCODED = /\$\{(hex|unicode):([\s0-9a-fA-F]*)\}/gi;

export function decodeEncodedCharacters(s: string): string {
  if (!s.includes("${")) return s;
  return s.replace(ENCODED, (whole, kind: string, body: string) => {
    const items = body.trim().split(/[ \t]+/).filter((x) => x !== "");
    if (items.length === 0) return "";
    if (kind.toLowerCase() === "hex") {
      if (!items.every((x) => /^[0-9a-fA-F]{2}$/.test(x))) return whole;
      return new TextDecoder().decode(new Uint8Array(items.map((x) => parseInt(x, 16))));
    }
    const points = items.map((x) => (x.length <= 8 ? parseInt(x, 16) : -1));
    if (points.some((p) => p < 0 || p > 0x10ffff || (p >= 0xd800 && p <= 0xdfff))) return whole;
    return String.fromCodePoint(...points);
  });
}
