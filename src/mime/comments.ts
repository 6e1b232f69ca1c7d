/** Drops RFC 5322 §3.2.2 comments "(...)", which may nest and may contain quoted pairs. */
export function stripComments(text: string): string {
  if (!text.includes("(")) return text;
  let out = "";
  let depth = 0;
  // Text outside comments is copied a run at a time, from `kept` to the next "(".
  let kept = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && depth > 0) i++;
    else if (c === "(") {
      if (depth++ === 0) out += text.slice(kept, i);
    } else if (c === ")" && depth > 0) {
      if (--depth === 0) kept = i + 1;
    }
  }
  return depth === 0 ? out + text.slice(kept) : out;
}
