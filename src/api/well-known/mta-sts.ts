/**
 * RFC 8461 §3.3: the MTA-STS policy at `https://mta-sts.<domain>/.well-known/mta-sts.txt`, as
 * `text/plain`. Every domain served here has the same MX (`hostname`), so one policy serves them all.
 */
import type { Hono } from "hono";
import { mtaStsPolicy, type MtaStsSettings } from "../../dns-records/mta-sts.ts";

export function mountMtaSts(app: Hono, hostname: string, settings: MtaStsSettings): void {
  const policy = mtaStsPolicy(hostname, settings);
  app.get("/.well-known/mta-sts.txt", (c) => c.body(policy, 200, { "content-type": "text/plain; charset=utf-8" }));
}
