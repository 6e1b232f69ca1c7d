/**
 * The names a domain points at this server for (DNS: `mta-sts.`, `autoconfig.`, `autodiscover.`)
 * and the ACME HTTP-01 challenge: documents generated from the config, no login needed.
 */
import type { Hono } from "hono";
import type { Config, ListenerName } from "../../config/schema.ts";
import { mountMtaSts } from "./mta-sts.ts";

export interface WellKnownOptions {
  hostname: string;
  mtaSts: Config["mtaSts"];
  /** The mail listeners that are on, with their bound ports. */
  listeners: Partial<Record<ListenerName, { port: number }>>;
}

export function mountWellKnown(app: Hono, options: WellKnownOptions): void {
  mountMtaSts(app, options.hostname, options.mtaSts);
}
