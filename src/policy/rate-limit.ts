/**
 * Rate limits per hour, counted in fixed one-hour windows kept in the database (a restart does
 * not reset them): messages per client IP (inbound), and messages and recipients per
 * authenticated account. Over a limit the message gets `451 4.7.1` and may be retried later.
 */
import type { PolicyCheck } from "./pipeline.ts";
import { accept, type Verdict } from "./verdict.ts";

/** Adds `amount` to a counter in the current window and returns the new total. */
export type RateCounter = (key: string, windowStart: number, amount: number) => Promise<number>;

export const RATE_LIMIT_NAMES = [
  "messagesPerIpPerHour",
  "messagesPerAccountPerHour",
  "recipientsPerAccountPerHour",
] as const;

const HOUR = 3_600_000;

export function rateLimits(
  options: { limits: Record<string, number>; count: RateCounter; now?: () => number },
): PolicyCheck {
  const now = options.now ?? Date.now;
  return {
    name: "rate-limit",
    stages: ["data"],
    roles: ["mx", "submission"],
    timeoutMs: 5000,
    onFailure: "accept",
    async run(context): Promise<Verdict> {
      const window = Math.floor(now() / HOUR) * HOUR;
      const checks: Array<[string, string, number]> = [];
      if (context.account) {
        checks.push(["messagesPerAccountPerHour", context.account, 1], [
          "recipientsPerAccountPerHour",
          context.account,
          context.recipients.length,
        ]);
      } else {
        checks.push(["messagesPerIpPerHour", context.remoteAddress, 1]);
      }
      for (const [name, subject, amount] of checks) {
        const limit = options.limits[name];
        if (limit === undefined) continue;
        const total = await options.count(`${name}|${subject.toLowerCase()}`, window, amount);
        if (total > limit) {
          const minutes = Math.ceil((window + HOUR - now()) / 60_000);
          return {
            action: "tempfail",
            reason: `Rate limit ${name} (${limit}) reached for ${subject}; try again in ${minutes} minutes`,
          };
        }
      }
      return accept;
    },
  };
}
