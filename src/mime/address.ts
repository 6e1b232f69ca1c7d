/**
 * Mail addresses as Postern compares them: the domain lower-cased and in A-labels (IDNA), the
 * local part lower-cased too. RFC 5321 §2.4 lets the receiving host decide on local-part case;
 * like most servers we treat it case-insensitively.
 */
import { checkDomainName } from "../util/domain-name.ts";

export interface ParsedAddress {
  local: string;
  domain: string;
}

/** Normalises a domain name; returns null when it is not a valid host name. */
export function normalizeDomain(domain: string): string | null {
  const checked = checkDomainName(domain);
  return checked.ok ? checked.name : null;
}

/**
 * Splits and normalises `local@domain`; null when it is not an address. Stored addresses keep
 * RFC 5321's 64-octet local part; `maxLocalPart` raises it for addresses SMTP accepted (SRS).
 */
export function parseAddress(address: string, maxLocalPart = 64): ParsedAddress | null {
  const at = address.lastIndexOf("@");
  if (at <= 0 || at === address.length - 1) return null;
  const local = address.slice(0, at);
  if (local.length > maxLocalPart || /[\s<>]/.test(local)) return null;
  const domain = normalizeDomain(address.slice(at + 1));
  if (!domain) return null;
  return { local: local.toLowerCase(), domain };
}

export function normalizeAddress(address: string): string | null {
  const parsed = parseAddress(address);
  return parsed ? `${parsed.local}@${parsed.domain}` : null;
}
