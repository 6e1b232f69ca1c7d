/**
 * The names a domain points at this server for (DNS: `mta-sts.`, `autoconfig.`, `autodiscover.`)
 * and the ACME HTTP-01 challenge: documents generated from the config, no login needed.
 */
import type { Hono } from "hono";
import type { Config, ListenerName } from "../../config/schema.ts";
import { mountAutoconfig } from "./autoconfig.ts";
import { mountAutodiscover } from "./autodiscover.ts";
import { type ClientServer, clientServers } from "./client-servers.ts";
import { mountMobileconfig } from "./mobileconfig.ts";
import { mountMtaSts } from "./mta-sts.ts";

export interface WellKnownOptions {
  hostname: string;
  mtaSts: Config["mtaSts"];
  /** The mail listeners that are on, with their bound ports (read when a document is asked for). */
  listeners: Partial<Record<ListenerName, { port: number }>>;
  /** Whether mail for `domain` is served here; client settings are given only for those domains. */
  serves?: (domain: string) => Promise<boolean>;
  /** The key authorization of an ACME HTTP-01 token being validated now. */
  acmeChallenge?: (token: string) => string | undefined;
}

/** What the client-configuration routes need. */
export interface WellKnownContext {
  hostname: string;
  servers(): ClientServer[];
  serves(domain: string): Promise<boolean>;
}

export function mountWellKnown(app: Hono, options: WellKnownOptions): void {
  mountMtaSts(app, options.hostname, options.mtaSts);
  // RFC 8555 §8.3: the CA fetches http://<name>/.well-known/acme-challenge/<token> (port 80) and expects the key authorization.
  app.get("/.well-known/acme-challenge/:token", (c) => {
    const answer = options.acmeChallenge?.(c.req.param("token"));
    return answer === undefined
      ? c.text("No such challenge\n", 404)
      : c.body(answer, 200, { "content-type": "application/octet-stream" });
  });
  const context: WellKnownContext = {
    hostname: options.hostname,
    servers: () => clientServers(options.listeners),
    serves: options.serves ?? (() => Promise.resolve(true)),
  };
  mountAutoconfig(app, context);
  mountAutodiscover(app, context);
  mountMobileconfig(app, context);
}
