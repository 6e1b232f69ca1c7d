/**
 * Every DNS record a domain served by this server should publish, computed from the config (pure:
 * `postern setup` and `postern dns` print them, `postern dns check` looks each one up).
 */
import { createPrivateKey, createPublicKey } from "node:crypto";
import { isIPv4, isIPv6 } from "node:net";
import type { Config, ListenerName } from "../config/schema.ts";
import { mtaStsId, mtaStsPolicy, type MtaStsSettings } from "./mta-sts.ts";

export type RecordData =
  | { type: "MX"; priority: number; exchange: string }
  | { type: "TXT"; text: string }
  | { type: "CNAME"; target: string }
  | { type: "SRV"; priority: number; weight: number; port: number; target: string }
  | { type: "A" | "AAAA"; address: string }
  | { type: "PTR"; target: string };

/** What a record is for: `postern dns check` checks each kind by its own rule. */
export type RecordKind =
  | "mx"
  | "spf"
  | "spf-helo"
  | "dkim"
  | "dmarc"
  | "mta-sts"
  | "tls-rpt"
  | "cname"
  | "srv"
  | "address"
  | "ptr";

export type DnsRecord = RecordData & { name: string; kind: RecordKind; purpose: string };

export interface RecordsInput {
  domain: string;
  hostname: string;
  listeners: Config["listeners"];
  /** The domain's DKIM keys (from `dkimRecord`). */
  dkim: ReadonlyArray<{ selector: string; record: string }>;
  mtaSts: MtaStsSettings;
  /** Where DMARC aggregate reports (RFC 7489 §7.2) and TLS reports (RFC 8460 §3) go. */
  reportAddress: string;
  /** The server's public addresses (A/AAAA of the host name, and the PTR to ask for). */
  addresses: readonly string[];
}

/**
 * RFC 6186 §3 and RFC 8314 §5.1 client SRV records: implicit TLS gets the lower (preferred) priority.
 * A listener that is off is published with target "." (RFC 6186 §4: the service is not offered).
 */
const SRV_SERVICES: ReadonlyArray<{ service: string; listener: ListenerName; priority: number }> = [
  { service: "_submissions._tcp", listener: "submissions", priority: 0 },
  { service: "_submission._tcp", listener: "submission", priority: 10 },
  { service: "_imaps._tcp", listener: "imaps", priority: 0 },
  { service: "_imap._tcp", listener: "imap", priority: 10 },
  { service: "_pop3s._tcp", listener: "pop3s", priority: 10 },
  { service: "_pop3._tcp", listener: "pop3", priority: 20 },
];

export function dnsRecords(input: RecordsInput): DnsRecord[] {
  const { domain, hostname } = input;
  const records: DnsRecord[] = [];
  const add = (record: DnsRecord) => records.push(record);

  for (const address of input.addresses) {
    const type = isIPv6(address) ? "AAAA" : "A";
    add({ name: hostname, type, address, kind: "address", purpose: `${hostname} is this server` });
  }
  add({ name: domain, type: "MX", priority: 10, exchange: hostname, kind: "mx", purpose: "mail for the domain" });
  add({ name: domain, type: "TXT", text: "v=spf1 mx -all", kind: "spf", purpose: "SPF: only the MX hosts send" });
  // RFC 7208 §2.3: the HELO name has an SPF identity of its own (bounces have an empty MAIL FROM).
  add({ name: hostname, type: "TXT", text: "v=spf1 a -all", kind: "spf-helo", purpose: "SPF of the HELO name" });
  for (const key of input.dkim) {
    add({
      name: `${key.selector}._domainkey.${domain}`,
      type: "TXT",
      text: key.record,
      kind: "dkim",
      purpose: `DKIM key ${key.selector}`,
    });
  }
  add({
    name: `_dmarc.${domain}`,
    type: "TXT",
    text: `v=DMARC1; p=quarantine; rua=mailto:${input.reportAddress}`,
    kind: "dmarc",
    purpose: "DMARC policy and aggregate reports",
  });
  const policy = mtaStsPolicy(hostname, input.mtaSts);
  add({
    name: `_mta-sts.${domain}`,
    type: "TXT",
    text: `v=STSv1; id=${mtaStsId(policy)}`,
    kind: "mta-sts",
    purpose: `MTA-STS (policy at https://mta-sts.${domain}/.well-known/mta-sts.txt)`,
  });
  add({
    name: `_smtp._tls.${domain}`,
    type: "TXT",
    text: `v=TLSRPTv1; rua=mailto:${input.reportAddress}`,
    kind: "tls-rpt",
    purpose: "SMTP TLS reports (RFC 8460)",
  });
  for (const sub of ["mta-sts", "autoconfig", "autodiscover"]) {
    add({ name: `${sub}.${domain}`, type: "CNAME", target: hostname, kind: "cname", purpose: `${sub} web names` });
  }
  for (const { service, listener, priority } of SRV_SERVICES) {
    const settings = input.listeners[listener];
    const on = settings !== false;
    add({
      name: `${service}.${domain}`,
      type: "SRV",
      priority: on ? priority : 0,
      weight: on ? 1 : 0,
      port: on ? settings.port : 0,
      target: on ? hostname : ".",
      kind: "srv",
      purpose: on ? `${listener} for mail clients` : `${listener} is not offered`,
    });
  }
  for (const address of input.addresses) {
    add({
      name: reverseName(address),
      type: "PTR",
      target: hostname,
      kind: "ptr",
      purpose: "reverse DNS: ask the provider of the address to set it",
    });
  }
  return records;
}

/** The `in-addr.arpa` (RFC 1035 §3.5) or `ip6.arpa` (RFC 3596 §2.5) name of an address. */
export function reverseName(address: string): string {
  if (isIPv4(address)) return `${address.split(".").reverse().join(".")}.in-addr.arpa`;
  if (!isIPv6(address)) throw new TypeError(`Not an IP address: ${address}`);
  const [head, tail = ""] = address.split("::");
  const groups = (part: string) => (part ? part.split(":") : []);
  const left = groups(head!);
  const right = groups(tail);
  const full = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  const nibbles = full.map((g) => g.padStart(4, "0")).join("").split("");
  return `${nibbles.reverse().join(".")}.ip6.arpa`;
}

/**
 * A DKIM key's TXT record from its PEM private key (RFC 6376 §3.6.1): `p=` is the base64 SPKI of an
 * RSA key, the raw 32-byte key of an Ed25519 one (RFC 8463 §4.2).
 */
export function dkimRecord(privateKeyPem: string): string {
  const key = createPublicKey(createPrivateKey(privateKeyPem));
  const spki = key.export({ type: "spki", format: "der" });
  const ed25519 = key.asymmetricKeyType === "ed25519";
  const p = (ed25519 ? spki.subarray(spki.length - 32) : spki).toString("base64");
  return `v=DKIM1; k=${ed25519 ? "ed25519" : "rsa"}; p=${p}`;
}

/** A record in zone-file syntax; TXT text in strings of at most 255 bytes (RFC 1035 §3.3.14). */
export function formatRecord(record: DnsRecord, ttl = 3600): string {
  const head = `${record.name}. ${ttl} IN ${record.type}`;
  switch (record.type) {
    case "MX":
      return `${head} ${record.priority} ${record.exchange}.`;
    case "TXT":
      return `${head} ${(record.text.match(/.{1,255}/g) ?? [""]).map((s) => `"${s}"`).join(" ")}`;
    case "CNAME":
    case "PTR":
      return `${head} ${record.target}.`;
    case "SRV":
      return `${head} ${record.priority} ${record.weight} ${record.port} ${
        record.target === "." ? "." : `${record.target}.`
      }`;
    case "A":
    case "AAAA":
      return `${head} ${record.address}`;
  }
}
