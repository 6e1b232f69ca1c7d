/**
 * What the interpreter may ask of its caller: the clock, site settings, policy results and lookups in the store.
 * Every member is optional and pure from the interpreter's point of view (it never does I/O itself).
 */
import type { ValidScript } from "./validate.ts";

export interface SieveEnvironment {
  /** The current time for currentdate (RFC 5260 §5); default: Date.now(). */
  now?: number;
  /** The local zone for date tests without :zone, in minutes east of UTC; default 0. */
  zoneOffset?: number;
  /** RFC 5233 subaddress separator; default "+". */
  separator?: string;
  /** RFC 5183 environment items ("domain", "host", "name", "version", "phase", "remote-ip", ...). */
  items?: Record<string, string>;
  /** RFC 5235 spamtest: 0 not tested, 1..10 from clean to spam; spamtestplus :percent 0..100. Null: not tested. */
  spam?: { score: number; percent: number } | null;
  /** RFC 5235 virustest: 0 not tested, 1 clean .. 5 infected. */
  virus?: number | null;
  /** RFC 5490 mailboxexists. */
  mailboxExists?(name: string): boolean;
  /** RFC 7352: whether this id was seen within `seconds`; the caller records it when the run's actions are taken. */
  duplicate?(id: string, seconds: number): boolean;
  /** RFC 6609: another script of the account (personal) or of the site (global), validated; null when missing. */
  include?(name: string, location: "personal" | "global"): ValidScript | null;
}
