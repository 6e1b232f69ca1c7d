/** ManageSieve responses (RFC 5804 §1.3, §4): strings quoted or as literals, and OK/NO/BYE with a response code. */

const enc = new TextEncoder();

/**
 * A string as the server sends it: quoted when it is short and plain, else a literal `{n}` (literal-s2c), which may
 * hold anything (RFC 5804 §4: quoted strings exclude CR, LF and NUL and hold at most 1024 octets).
 */
export function sieveString(text: string): string {
  const size = enc.encode(text).length;
  if (size <= 1024 && !/[\r\n\0]/.test(text)) return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
  return `{${size}}\r\n${text}`;
}

/** RFC 5804 §1.3 response codes; "QUOTA/MAXSIZE" and "QUOTA/MAXSCRIPTS" are the QUOTA code's sub-codes. */
export type ResponseCode =
  | "AUTH-TOO-WEAK"
  | "ENCRYPT-NEEDED"
  | "QUOTA"
  | "QUOTA/MAXSCRIPTS"
  | "QUOTA/MAXSIZE"
  | "SASL"
  | "TRYLATER"
  | "ACTIVE"
  | "NONEXISTENT"
  | "ALREADYEXISTS"
  | "TAG"
  | "WARNINGS";

/** `OK`, `NO` or `BYE`, an optional `(CODE arg)` and optional human-readable text, ending with CRLF. */
export function response(
  kind: "OK" | "NO" | "BYE",
  text?: string,
  code?: ResponseCode,
  codeArgument?: string,
): string {
  let line = kind;
  if (code) line += ` (${code}${codeArgument === undefined ? "" : ` ${sieveString(codeArgument)}`})`;
  if (text !== undefined) line += ` ${sieveString(text)}`;
  return `${line}\r\n`;
}
