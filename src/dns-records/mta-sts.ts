/**
 * The MTA-STS policy (RFC 8461) this server publishes for every domain it receives mail for: its
 * one MX host, the mode and max_age from `mtaSts` in the config. Pure: text in, text out.
 */
import { createHash } from "node:crypto";

export type MtaStsMode = "enforce" | "testing" | "none";

export interface MtaStsSettings {
  mode: MtaStsMode;
  /** Seconds senders may cache the policy (RFC 8461 §3.2: at most 31557600). */
  maxAge: number;
}

/** RFC 8461 §3.2: key/value lines, each ended by CRLF, `mx` repeated for each MX host. */
export function mtaStsPolicy(hostname: string, settings: MtaStsSettings): string {
  const lines = ["version: STSv1", `mode: ${settings.mode}`, `mx: ${hostname}`, `max_age: ${settings.maxAge}`];
  return lines.map((line) => `${line}\r\n`).join("");
}

/**
 * The `id` of the `_mta-sts` TXT record (RFC 8461 §3.1: 1 to 32 letters and digits), which
 * must change whenever the policy does: taken from the policy's hash, so `postern dns` prints
 * the same id for the same policy every time and a new one after a change.
 */
export function mtaStsId(policy: string): string {
  return createHash("sha256").update(policy).digest("hex").slice(0, 20);
}
