/**
 * RFC 5235 spamtest/spamtestplus and virustest fed from Postern's own policy verdict: the header lines its checks
 * produced (src/policy/spamd.ts, rspamd.ts, clamd.ts), never the message's own fields, which a sender could forge.
 */
import type { SieveEnvironment } from "../sieve/index.ts";

export type PolicyResults = Pick<SieveEnvironment, "spam" | "virus">;

const SPAM_STATUS = /^X-Spam-Status:\s*(Yes|No)\b.*?\bscore=(-?[\d.]+)(?:.*?\brequired=(-?[\d.]+))?/i;

/**
 * RFC 5235 §3.2: spamtest is 0 when not tested, 1 for clean through 10 for certain spam; spamtestplus's :percent is
 * 0..100. The score is scaled against the checker's threshold, so a message at the threshold is 10 and 100 %.
 * §3.3: virustest is 0 when not tested, 1 for no virus found, 5 for infected.
 */
export function policyResults(headers: readonly string[] | undefined): PolicyResults {
  let spam: PolicyResults["spam"] = null;
  let virus: number | null = null;
  for (const h of headers ?? []) {
    const m = SPAM_STATUS.exec(h);
    if (m) {
      const score = Number(m[2]);
      const required = m[3] === undefined ? NaN : Number(m[3]);
      const isSpam = m[1]!.toLowerCase() === "yes";
      const percent = required > 0
        ? Math.round(Math.min(100, Math.max(0, (score / required) * 100)))
        : isSpam
        ? 100
        : 0;
      spam = { score: 1 + Math.round((percent * 9) / 100), percent };
    } else if (/^X-Virus-Status:\s*infected/i.test(h)) virus = 5;
    else if (/^X-Virus-Scanned:.*\bclean\b/i.test(h)) virus = Math.max(virus ?? 0, 1);
  }
  return { spam, virus };
}
