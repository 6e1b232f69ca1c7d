/** RFC 5232 §3: flag lists are space-separated strings; duplicates (case-insensitive) collapse to the first. */
export function flagList(values: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    for (const flag of v.split(" ")) {
      if (flag === "" || seen.has(flag.toLowerCase())) continue;
      seen.add(flag.toLowerCase());
      out.push(flag);
    }
  }
  return out;
}

export function removeFlags(current: readonly string[], remove: readonly string[]): string[] {
  const gone = new Set(flagList(remove).map((f) => f.toLowerCase()));
  return current.filter((f) => !gone.has(f.toLowerCase()));
}
