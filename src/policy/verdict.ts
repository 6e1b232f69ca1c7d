/**
 * What a policy check decides about a message, and how several decisions combine: the
 * strongest action wins (reject > tempfail > discard > junk > tag > accept); headers and scores
 * from every check are kept.
 */

export type Action = "accept" | "tag" | "junk" | "reject" | "tempfail" | "discard";

export interface Verdict {
  action: Action;
  /** Why, for the SMTP reply text and the log. */
  reason?: string;
  /** Header lines (without CRLF) to add to the message, e.g. "X-Spam-Status: Yes, score=7.1". */
  headers?: string[];
  /** Which check decided, set by the pipeline. */
  check?: string;
}

const STRENGTH: Record<Action, number> = { accept: 0, tag: 1, junk: 2, discard: 3, tempfail: 4, reject: 5 };

export const accept: Verdict = { action: "accept" };

export function combine(verdicts: readonly Verdict[]): Verdict {
  let strongest: Verdict = accept;
  const headers: string[] = [];
  for (const v of verdicts) {
    headers.push(...(v.headers ?? []));
    if (STRENGTH[v.action] > STRENGTH[strongest.action]) strongest = v;
  }
  return { ...strongest, headers };
}

export function isVerdict(value: unknown): value is Verdict {
  return typeof value === "object" && value !== null && typeof (value as Verdict).action === "string" &&
    (value as Verdict).action in STRENGTH;
}
