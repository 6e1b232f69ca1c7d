/**
 * An Apple configuration profile (`.mobileconfig`, an XML property list) with one mail account
 * (payload type `com.apple.mail.managed`), for iOS and macOS: opened from
 * `/apple/mail.mobileconfig?email=<address>`, it offers to add the account, asking for the password.
 * Unsigned. IMAP over implicit TLS is preferred; POP3 when IMAP is off.
 */
import { createHash } from "node:crypto";
import type { Hono } from "hono";
import { type ClientServer, escapeXml, requestedAddress } from "./client-servers.ts";
import type { WellKnownContext } from "./index.ts";

/** A UUID derived from `seed`, so downloading the profile again replaces it rather than adding another. */
function stableUuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`.toUpperCase();
}

type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function plist(value: PlistValue, indent = ""): string {
  if (typeof value === "string") return `${indent}<string>${escapeXml(value)}</string>`;
  if (typeof value === "number") return `${indent}<integer>${value}</integer>`;
  if (typeof value === "boolean") return `${indent}<${value}/>`;
  if (Array.isArray(value)) {
    return [
      `${indent}<array>`,
      ...value.map((v) => plist(v, `${indent}  `)),
      `${indent}</array>`,
    ].join("\n");
  }
  const entries = Object.entries(value).flatMap((
    [k, v],
  ) => [`${indent}  <key>${escapeXml(k)}</key>`, plist(v, `${indent}  `)]);
  return [`${indent}<dict>`, ...entries, `${indent}</dict>`].join("\n");
}

export function appleProfile(address: string, hostname: string, servers: readonly ClientServer[]): string | null {
  const incoming = servers.find((s) => s.protocol === "imap") ?? servers.find((s) => s.protocol === "pop3");
  const outgoing = servers.find((s) => s.protocol === "smtp");
  if (!incoming || !outgoing) return null;
  // Reverse-DNS identifiers under the server's name, one per address.
  const id = `${hostname.split(".").reverse().join(".")}.mail.${address}`;
  const account: PlistValue = {
    EmailAccountDescription: address,
    EmailAccountName: address,
    EmailAccountType: incoming.protocol === "imap" ? "EmailTypeIMAP" : "EmailTypePOP",
    EmailAddress: address,
    IncomingMailServerAuthentication: "EmailAuthPassword",
    IncomingMailServerHostName: hostname,
    IncomingMailServerPortNumber: incoming.port,
    // The profile has only "use SSL"; with STARTTLS on the port the client upgrades (it never sends a password in clear).
    IncomingMailServerUseSSL: true,
    IncomingMailServerUsername: address,
    OutgoingMailServerAuthentication: "EmailAuthPassword",
    OutgoingMailServerHostName: hostname,
    OutgoingMailServerPortNumber: outgoing.port,
    OutgoingMailServerUseSSL: true,
    OutgoingMailServerUsername: address,
    OutgoingPasswordSameAsIncomingPassword: true,
    PayloadDescription: `Mail account ${address}`,
    PayloadDisplayName: address,
    PayloadIdentifier: `${id}.account`,
    PayloadType: "com.apple.mail.managed",
    PayloadUUID: stableUuid(`${id}.account`),
    PayloadVersion: 1,
  };
  const profile: PlistValue = {
    PayloadContent: [account],
    PayloadDescription: `Mail settings for ${address}`,
    PayloadDisplayName: `Mail: ${address}`,
    PayloadIdentifier: id,
    PayloadRemovalDisallowed: false,
    PayloadType: "Configuration",
    PayloadUUID: stableUuid(id),
    PayloadVersion: 1,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    plist(profile),
    "</plist>",
    "",
  ].join("\n");
}

export function mountMobileconfig(app: Hono, context: WellKnownContext): void {
  app.get("/apple/mail.mobileconfig", async (c) => {
    const address = requestedAddress(c.req.query("email"));
    if (!address) return c.text("Give the account's address: ?email=user@example.com\n", 400);
    if (!(await context.serves(address.domain))) return c.text("No mail service for this domain here\n", 404);
    const profile = appleProfile(address.address, context.hostname, context.servers());
    if (!profile) return c.text("No incoming and outgoing mail listener is on\n", 404);
    return c.body(profile, 200, {
      "content-type": "application/x-apple-aspen-config",
      "content-disposition": 'attachment; filename="mail.mobileconfig"',
    });
  });
}
