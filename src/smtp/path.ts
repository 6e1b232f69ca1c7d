/**
 * Reverse-path and forward-path syntax of MAIL and RCPT (RFC 5321 §4.1.2), with the UTF-8
 * addresses of RFC 6531 §3.3 and length limits after RFC 5321 §4.5.3.1.
 */

export interface Mailbox {
  /** As it will be used: a quoted local part is kept quoted only if it is not a plain dot-atom. */
  localPart: string;
  /** Lower-cased; "" only for the bare `<postmaster>` recipient. */
  domain: string;
  address: string;
  /** Contains non-ASCII characters, so needs SMTPUTF8. */
  utf8: boolean;
}

export type PathResult =
  | { ok: true; mailbox: Mailbox | null; rest: string }
  | { ok: false; reason: string };

export interface PathOptions {
  /** `<>`, the null reverse-path (MAIL only). */
  allowNull?: boolean;
  /** `<postmaster>` without a domain (RCPT only, RFC 5321 §4.1.1.3). */
  allowPostmaster?: boolean;
}

const ATEXT = /^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~\u0080-\u{10ffff}]+$/u;
const LABEL = /^(?:[A-Za-z0-9\u0080-\u{10ffff}](?:[A-Za-z0-9\-\u0080-\u{10ffff}]*[A-Za-z0-9\u0080-\u{10ffff}])?)$/u;
/**
 * RFC 5321 §4.5.3.1.1 names 64 octets for a local part and §4.5.3.1.3 256 for a path, but
 * §4.5.3.1 asks servers to accept longer objects where they can: SRS0/SRS1 addresses of long
 * senders (a forwarder's bounce address) pass 64 octets, and Postfix takes them. Postern takes a
 * local part up to 255 octets and a path up to 512, in MAIL as in RCPT (another forwarder's SRS
 * address arrives as a reverse-path); the domain keeps RFC 1035's 255.
 */
export const MAX_LOCAL_PART = 255;
export const MAX_PATH = 512;
const MAX_DOMAIN = 255;

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

export function parsePath(input: string, options: PathOptions = {}): PathResult {
  // Many clients write "MAIL FROM: <a@b>"; RFC 5321 has no space there, but tolerating one is harmless.
  const text = input.startsWith(" ") ? input.slice(1) : input;
  if (!text.startsWith("<")) return { ok: false, reason: "the address must be enclosed in <>" };
  let i = 1;
  // RFC 5321 §4.1.1.3 / Appendix C: a source route "@a,@b:" is accepted and ignored.
  if (text[i] === "@") {
    const colon = text.indexOf(":", i);
    if (colon === -1) return { ok: false, reason: "malformed source route" };
    i = colon + 1;
  }
  let local = "";
  let quoted = false;
  if (text[i] === '"') {
    quoted = true;
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) return { ok: false, reason: "unterminated quoted local part" };
      if (c === '"') break;
      if (c === "\\") {
        const next = text[i + 1];
        if (next === undefined || next < " " || next === "\x7f") return { ok: false, reason: "bad quoted pair" };
        local += next;
        i += 2;
        continue;
      }
      if (c < " " || c === "\x7f") return { ok: false, reason: "control character in the local part" };
      local += c;
      i++;
    }
    i++;
  } else {
    const end = text.slice(i).search(/[@>]/);
    if (end === -1) return { ok: false, reason: "missing >" };
    local = text.slice(i, i + end);
    i += end;
  }

  if (text[i] === ">") {
    const rest = text.slice(i + 1).trim();
    if (!quoted && local === "" && options.allowNull) return { ok: true, mailbox: null, rest };
    if (!quoted && local.toLowerCase() === "postmaster" && options.allowPostmaster) {
      return { ok: true, mailbox: { localPart: "postmaster", domain: "", address: "postmaster", utf8: false }, rest };
    }
    return { ok: false, reason: "the address has no domain" };
  }
  if (text[i] !== "@") return { ok: false, reason: "the address has no domain" };
  const close = text.indexOf(">", i);
  if (close === -1) return { ok: false, reason: "missing >" };
  const domain = text.slice(i + 1, close);
  const rest = text.slice(close + 1).trim();

  if (!quoted && !local.split(".").every((atom) => ATEXT.test(atom))) return { ok: false, reason: "bad local part" };
  if (quoted && local === "") return { ok: false, reason: "empty local part" };
  const domainError = checkDomain(domain);
  if (domainError) return { ok: false, reason: domainError };

  const localPart = quoted && !local.split(".").every((atom) => ATEXT.test(atom)) ? quoteLocal(local) : local;
  // The path's length includes the brackets (RFC 5321 §4.5.3.1.3).
  if (bytes(localPart) > MAX_LOCAL_PART) {
    return { ok: false, reason: `local part longer than ${MAX_LOCAL_PART} octets` };
  }
  if (bytes(domain) > MAX_DOMAIN) return { ok: false, reason: `domain longer than ${MAX_DOMAIN} octets` };
  const address = `${localPart}@${domain.startsWith("[") ? domain : domain.toLowerCase()}`;
  if (bytes(address) + 2 > MAX_PATH) return { ok: false, reason: `path longer than ${MAX_PATH} octets` };
  return {
    ok: true,
    mailbox: {
      localPart,
      domain: domain.startsWith("[") ? domain : domain.toLowerCase(),
      address,
      utf8: /[^\x00-\x7f]/.test(address),
    },
    rest,
  };
}

const encoder = new TextEncoder();

/** Octets of `s` in UTF-8: its length when ASCII (nearly every address), else encoded. */
function bytes(s: string): number {
  return /^[\x00-\x7f]*$/.test(s) ? s.length : encoder.encode(s).length;
}

function checkDomain(domain: string): string | null {
  if (domain.startsWith("[")) {
    if (!domain.endsWith("]")) return "bad address literal";
    const inner = domain.slice(1, -1);
    if (IPV4.test(inner)) return null;
    if (/^IPv6:[0-9A-Fa-f:.]+$/i.test(inner) && inner.includes(":", 5)) return null;
    return "bad address literal";
  }
  if (domain === "") return "empty domain";
  const labels = domain.split(".");
  if (!labels.every((l) => l.length <= 63 && LABEL.test(l))) return "bad domain";
  return null;
}

function quoteLocal(local: string): string {
  return `"${local.replace(/["\\]/g, "\\$&")}"`;
}
