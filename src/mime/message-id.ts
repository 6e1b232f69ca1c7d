/**
 * Message identifiers (RFC 5322 §3.6.4) as used by Message-ID, In-Reply-To and References:
 * "<left@right>", listed with white space or comments between them.
 */

/** "<a@b> (c) <c@d>" → ["a@b", "c@d"]; bare ids without brackets are taken too, leniently. */
export function messageIds(value: string | null): string[] {
  if (!value) return [];
  const bracketed: string[] = [];
  // Each "<" up to the next ">", unless another "<" comes first.
  for (let open = value.indexOf("<"); open !== -1;) {
    const close = value.indexOf(">", open + 1);
    const reopen = value.indexOf("<", open + 1);
    if (close === -1) break;
    if (reopen !== -1 && reopen < close) {
      open = reopen;
      continue;
    }
    const id = value.slice(open + 1, close).replace(/\s+/g, "");
    if (id !== "") bracketed.push(id);
    open = value.indexOf("<", close + 1);
  }
  if (bracketed.length > 0) return bracketed;
  return value
    .replace(/\([^()]*\)/g, " ")
    .split(/[\s,]+/)
    .filter((s) => s.includes("@"));
}
