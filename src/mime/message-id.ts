/**
 * Message identifiers (RFC 5322 §3.6.4) as used by Message-ID, In-Reply-To and References:
 * "<left@right>", listed with white space or comments between them.
 */

/** "<a@b> (c) <c@d>" → ["a@b", "c@d"]; bare ids without brackets are taken too, leniently. */
export function messageIds(value: string | null): string[] {
  if (!value) return [];
  const bracketed = [...value.matchAll(/<([^<>]*)>/g)].map((m) => m[1]!.replace(/\s+/g, "")).filter(Boolean);
  if (bracketed.length > 0) return bracketed;
  return value
    .replace(/\([^()]*\)/g, " ")
    .split(/[\s,]+/)
    .filter((s) => s.includes("@"));
}
