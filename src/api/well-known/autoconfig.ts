/**
 * Thunderbird autoconfiguration (the "clientConfig" format, version 1.1): Thunderbird asks
 * `https://autoconfig.<domain>/mail/config-v1.1.xml?emailaddress=<address>` and then
 * `https://<domain>/.well-known/autoconfig/mail/config-v1.1.xml`; both are served here, for the
 * domain of the address or else of the `autoconfig.` host name asked for.
 */
import type { Context, Hono } from "hono";
import { type ClientServer, escapeXml, requestedAddress } from "./client-servers.ts";
import type { WellKnownContext } from "./index.ts";

const SOCKET_TYPE: Record<ClientServer["tls"], string> = { implicit: "SSL", starttls: "STARTTLS" };

export function thunderbirdConfig(domain: string, hostname: string, servers: readonly ClientServer[]): string {
  const d = escapeXml(domain);
  const server = (s: ClientServer) => {
    const element = s.protocol === "smtp" ? "outgoingServer" : "incomingServer";
    return [
      `    <${element} type="${s.protocol}">`,
      `      <hostname>${escapeXml(hostname)}</hostname>`,
      `      <port>${s.port}</port>`,
      `      <socketType>${SOCKET_TYPE[s.tls]}</socketType>`,
      // Passwords only ever go over TLS (auth.allowPlaintext is for development).
      "      <authentication>password-cleartext</authentication>",
      "      <username>%EMAILADDRESS%</username>",
      `    </${element}>`,
    ].join("\n");
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<clientConfig version="1.1">',
    `  <emailProvider id="${d}">`,
    `    <domain>${d}</domain>`,
    `    <displayName>${d}</displayName>`,
    `    <displayShortName>${d}</displayShortName>`,
    ...servers.map(server),
    "  </emailProvider>",
    "</clientConfig>",
    "",
  ].join("\n");
}

/** The domain from `?emailaddress=`, else from an `autoconfig.<domain>` Host header. */
function askedDomain(c: Context): string | null {
  const address = requestedAddress(c.req.query("emailaddress"));
  if (address) return address.domain;
  const host = (c.req.header("host") ?? "").toLowerCase().replace(/:\d+$/, "");
  return host.startsWith("autoconfig.") ? host.slice("autoconfig.".length) : null;
}

export function mountAutoconfig(app: Hono, context: WellKnownContext): void {
  const handler = async (c: Context) => {
    const domain = askedDomain(c);
    if (!domain || !(await context.serves(domain))) {
      return c.text("No mail service for this domain here\n", 404);
    }
    const xml = thunderbirdConfig(domain, context.hostname, context.servers());
    return c.body(xml, 200, { "content-type": "application/xml; charset=utf-8" });
  };
  app.get("/.well-known/autoconfig/mail/config-v1.1.xml", handler);
  app.get("/mail/config-v1.1.xml", handler);
}
