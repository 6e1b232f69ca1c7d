/**
 * Greylisting: the first attempt from a (client network, sender, recipient) triplet is
 * refused with a temporary error; a real MTA retries after the delay and passes, and is then
 * remembered until the triplet has been unused for the expiry time. Authenticated sessions are
 * never greylisted (the check runs for inbound mail only).
 */
import type { PolicyCheck } from "./pipeline.ts";
import { accept, type Verdict } from "./verdict.ts";

export interface GreylistEntry {
  firstSeen: number;
  passedAt: number | null;
  lastSeen: number;
}

/** Where triplets live (libSQL, so a restart does not reset them). */
export interface GreylistStore {
  get(triplet: string): Promise<GreylistEntry | null>;
  put(triplet: string, entry: GreylistEntry): Promise<void>;
}

/** The client's network: IPv4 /24, IPv6 /64 — retries often come from a neighbouring address. */
export function network(ip: string): string {
  if (ip.includes(":")) return `${ip.split(":").slice(0, 4).join(":")}::/64`;
  return `${ip.split(".").slice(0, 3).join(".")}.0/24`;
}

export function greylisting(
  options: { store: GreylistStore; delaySeconds: number; expirySeconds: number; now?: () => number },
): PolicyCheck {
  const now = options.now ?? Date.now;
  return {
    name: "greylist",
    stages: ["rcpt"],
    roles: ["mx"],
    timeoutMs: 5000,
    onFailure: "accept",
    async run(context): Promise<Verdict> {
      if (context.account) return accept;
      const triplet = [network(context.remoteAddress), context.sender, ...context.recipients].join("|").toLowerCase();
      const t = now();
      const entry = await options.store.get(triplet);
      const expired = entry && t - entry.lastSeen > options.expirySeconds * 1000;
      if (!entry || expired) {
        await options.store.put(triplet, { firstSeen: t, passedAt: null, lastSeen: t });
        return { action: "tempfail", reason: `Greylisted, please try again in ${options.delaySeconds} seconds` };
      }
      if (entry.passedAt === null && t - entry.firstSeen < options.delaySeconds * 1000) {
        const wait = Math.ceil((options.delaySeconds * 1000 - (t - entry.firstSeen)) / 1000);
        return { action: "tempfail", reason: `Greylisted, please try again in ${wait} seconds` };
      }
      await options.store.put(triplet, { firstSeen: entry.firstSeen, passedAt: entry.passedAt ?? t, lastSeen: t });
      return accept;
    },
  };
}
