/**
 * The one check for a domain name or DKIM selector that reaches a file name or a DNS name
 * (`postern dkim generate`, `postern domain add`, the REST admin API, the config's `dkim` keys):
 * IDNA to A-labels (RFC 5891, with `node:url`'s `domainToASCII`), then letters, digits and
 * hyphens only (RFC 1035 §2.3.1, RFC 5890 §2.3.1 LDH labels), within RFC 1035 §2.3.4's limits.
 * Nothing else gets through, so neither `..` nor `/` can ever become part of a path.
 */
import { domainToASCII } from "node:url";

export type NameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** RFC 1035 §2.3.4: 63 octets a label, 255 a name on the wire, so 253 written out without the root dot. */
const MAX_LABEL = 63;
const MAX_NAME = 253;

/** An LDH label: letters, digits and inner hyphens (RFC 1123 §2.1 allows a leading digit). */
const LDH = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;

function checkLabels(labels: string[]): string | null {
  for (const label of labels) {
    if (label === "") return "it has an empty label";
    if (label.length > MAX_LABEL) return `the label ${label.slice(0, 20)}... is longer than ${MAX_LABEL} characters`;
    if (!LDH.test(label)) {
      return `the label ${JSON.stringify(label)} is not letters, digits and inner hyphens`;
    }
  }
  return null;
}

/**
 * A domain name in lower-case A-labels (`Bücher.Example.` → `xn--bcher-kva.example`), or why it
 * is not one. One trailing dot (the root) is allowed and dropped.
 */
export function checkDomainName(text: string): NameCheck {
  const trimmed = text.trim().replace(/\.$/, "");
  if (trimmed === "") return { ok: false, reason: "it is empty" };
  // Checked before IDNA too: WHATWG's mapping turns some characters (full stops, slashes) into others.
  if (/[\x00-\x20\x7f/\\]/.test(trimmed)) {
    return { ok: false, reason: "it contains a space, slash or control character" };
  }
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (ascii === "") return { ok: false, reason: "it is not a valid internationalized domain name" };
  if (ascii.length > MAX_NAME) return { ok: false, reason: `it is longer than ${MAX_NAME} characters` };
  const labelError = checkLabels(ascii.split("."));
  if (labelError) return { ok: false, reason: labelError };
  // A name of digits and dots is an IPv4 address, and WHATWG reads some such names as one.
  if (/^[0-9.]+$/.test(ascii)) {
    return { ok: false, reason: "it is an IP address, not a domain name" };
  }
  return { ok: true, name: ascii };
}

/**
 * A DKIM selector (RFC 6376 §3.1): `selector._domainkey.<domain>` is a DNS name and
 * `<domain>.<selector>.key` a file name, so it is one LDH label here, in lower case.
 */
export function checkSelector(text: string): NameCheck {
  const lower = text.toLowerCase();
  const labelError = lower === "" ? "it is empty" : checkLabels([lower]);
  return labelError ? { ok: false, reason: labelError } : { ok: true, name: lower };
}

/** The message that refuses a value: it names the value and the reason. */
export function nameError(what: "domain name" | "DKIM selector", text: string, reason: string): string {
  return `${JSON.stringify(text)} is not a valid ${what}: ${reason}`;
}

/** The checked name, or a `RangeError` naming the value and the reason. */
export function validName(what: "domain name" | "DKIM selector", text: string): string {
  const checked = what === "domain name" ? checkDomainName(text) : checkSelector(text);
  if (!checked.ok) throw new RangeError(nameError(what, text, checked.reason));
  return checked.name;
}
