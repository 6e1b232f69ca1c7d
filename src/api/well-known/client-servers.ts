/**
 * The servers a mail client is told about, from the listeners that are on: IMAP before POP3, and
 * implicit TLS before STARTTLS for each protocol (RFC 8314 §5.1). Plain-text listeners without
 * STARTTLS do not exist here: every non-TLS mail listener offers STARTTLS/STLS.
 */
import type { ListenerName } from "../../config/schema.ts";
import { parseAddress } from "../../mime/address.ts";

export interface ClientServer {
  protocol: "imap" | "pop3" | "smtp";
  port: number;
  tls: "implicit" | "starttls";
}

const ORDER: ReadonlyArray<{ listener: ListenerName } & Omit<ClientServer, "port">> = [
  { listener: "imaps", protocol: "imap", tls: "implicit" },
  { listener: "imap", protocol: "imap", tls: "starttls" },
  { listener: "pop3s", protocol: "pop3", tls: "implicit" },
  { listener: "pop3", protocol: "pop3", tls: "starttls" },
  { listener: "submissions", protocol: "smtp", tls: "implicit" },
  { listener: "submission", protocol: "smtp", tls: "starttls" },
];

export function clientServers(listeners: Partial<Record<ListenerName, { port: number }>>): ClientServer[] {
  return ORDER.flatMap(({ listener, protocol, tls }) => {
    const on = listeners[listener];
    return on ? [{ protocol, tls, port: on.port }] : [];
  });
}

/** The address a client asked about, normalised; null when it is not one. */
export function requestedAddress(text: string | undefined | null): { address: string; domain: string } | null {
  const parsed = text ? parseAddress(text.trim()) : null;
  return parsed ? { address: `${parsed.local}@${parsed.domain}`, domain: parsed.domain } : null;
}

/** Text for XML character data and attribute values (XML 1.0 §2.4). */
export function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}
