/**
 * Outbound HTTP targets that a user can choose (JMAP push subscriptions, webhook targets of
 * aliases): whether one may be contacted, and the POST itself. The host is resolved once; a
 * target any of whose addresses is loopback, private (RFC 1918, RFC 4193), link-local, CGNAT
 * (RFC 6598), unspecified, multicast or reserved — or the IPv4-mapped form of one — is refused
 * unless `outbound.allowPrivateTargets` allows it, so nobody can make the server reach its own
 * network (server-side request forgery). The POST connects to the address that was checked
 * (no second lookup that a rebinding DNS server could answer otherwise), keeps the name for
 * TLS (SNI, certificate) and Host, and follows no redirect.
 */
import { lookup } from "node:dns/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { BlockList, isIP } from "node:net";
import { addressList, listHas } from "../util/ip-list.ts";
import type { DnsResolve } from "./dns.ts";

/** `outbound.allowPrivateTargets`: `true` for any, or the networks allowed (e.g. `["127.0.0.1/32", "::1"]`). */
export type AllowPrivateTargets = boolean | readonly string[];

export interface OutboundPolicy {
  allowPrivateTargets?: AllowPrivateTargets;
  /** The configured resolver (`dns.servers`); without it, the system's (`node:dns` lookup). */
  resolve?: DnsResolve;
}

/** A target that passed the check: the URL and the address to connect to. */
export interface CheckedTarget {
  url: URL;
  address: string;
  family: 4 | 6;
}

const SPECIAL = new BlockList();
for (
  const [net, bits] of [["0.0.0.0", 8], ["10.0.0.0", 8], ["100.64.0.0", 10], ["127.0.0.0", 8], [
    "169.254.0.0",
    16,
  ]] as const
) {
  SPECIAL.addSubnet(net, bits, "ipv4");
}
for (const [net, bits] of [["172.16.0.0", 12], ["192.0.0.0", 24], ["192.168.0.0", 16], ["198.18.0.0", 15]] as const) {
  SPECIAL.addSubnet(net, bits, "ipv4");
}
// 224/4 multicast, 240/4 reserved and the limited broadcast 255.255.255.255.
SPECIAL.addSubnet("224.0.0.0", 3, "ipv4");
for (const [net, bits] of [["::", 128], ["::1", 128], ["fc00::", 7], ["fe80::", 10], ["ff00::", 8]] as const) {
  SPECIAL.addSubnet(net, bits, "ipv6");
}

/**
 * The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2), IPv4-compatible
 * (`::a.b.c.d`) or NAT64 (`64:ff9b::/96`, RFC 6052) IPv6 address, or null.
 */
export function embeddedIpv4(ip: string): string | null {
  const groups = expandIpv6(ip);
  if (!groups) return null;
  const head = groups.slice(0, 6).map((g) => g.toString(16)).join(":");
  if (head !== "0:0:0:0:0:ffff" && head !== "0:0:0:0:0:0" && head !== "64:ff9b:0:0:0:0") return null;
  if (head === "0:0:0:0:0:0" && groups[6] === 0) return null; // :: and ::1 are IPv6's own
  return [groups[6]! >> 8, groups[6]! & 255, groups[7]! >> 8, groups[7]! & 255].join(".");
}

function expandIpv6(ip: string): number[] | null {
  if (isIP(ip) !== 6) return null;
  let text = ip.toLowerCase();
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [left, right] = text.split("::") as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(":").map((g) => parseInt(g, 16)) : []);
  const head = parse(left);
  const tail = right === undefined ? [] : parse(right);
  return [...head, ...Array(8 - head.length - tail.length).fill(0), ...tail];
}

/** Whether `ip` is a special-use address (or not an address at all): never contacted unless allowed. */
export function isPrivateAddress(ip: string): boolean {
  const family = isIP(ip);
  if (family === 0) return true; // not an address: never contacted
  if (family === 6) {
    const v4 = embeddedIpv4(ip);
    if (v4) return isPrivateAddress(v4);
  }
  return SPECIAL.check(ip, family === 6 ? "ipv6" : "ipv4");
}

/** Whether `ip` may be contacted under `allow`. */
function allowed(ip: string, allow: AllowPrivateTargets | undefined, list: BlockList | null): boolean {
  if (!isPrivateAddress(ip)) return true;
  if (allow === true) return true;
  if (!list) return false;
  return listHas(list, ip) || (isIP(ip) === 6 && embeddedIpv4(ip) !== null && listHas(list, embeddedIpv4(ip)!));
}

const lists = new WeakMap<readonly string[], BlockList>();
function allowList(allow: AllowPrivateTargets | undefined): BlockList | null {
  if (!Array.isArray(allow) || !allow.length) return null;
  const entries = allow as readonly string[];
  let list = lists.get(entries);
  if (!list) lists.set(entries, list = addressList(entries));
  return list;
}

/** The bare host of a URL: no brackets, no final dot, lower case. */
function bareHost(url: URL): string {
  return url.hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
}

async function addressesOf(host: string, resolve: DnsResolve | undefined): Promise<string[]> {
  if (isIP(host)) return [host];
  // RFC 6761 §6.3: localhost names are loopback, whatever a DNS server says.
  if (host === "localhost" || host.endsWith(".localhost")) return ["127.0.0.1", "::1"];
  if (!resolve) return (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  const answers = await Promise.allSettled([resolve(host, "A"), resolve(host, "AAAA")]);
  const found = answers.flatMap((a) => (a.status === "fulfilled" ? (a.value as string[]) : []));
  if (!found.length) {
    const failed = answers.find((a) => a.status === "rejected") as PromiseRejectedResult | undefined;
    throw failed?.reason ?? new Error(`${host} has no address`);
  }
  return found;
}

/**
 * Resolves the URL's host and checks every address it has: the target to connect to, or why it
 * may not be contacted. `temporary` marks a lookup that failed (worth a retry), not a refusal.
 */
export async function checkOutboundUrl(
  url: string,
  policy: OutboundPolicy = {},
): Promise<CheckedTarget | { refusal: string; temporary?: boolean }> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { refusal: `Not a valid URL: ${url}` };
  }
  if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return { refusal: `Not an http(s) URL: ${url}` };
  const host = bareHost(parsed);
  let addresses: string[];
  try {
    addresses = await addressesOf(host, policy.resolve);
  } catch (e) {
    return {
      refusal: `Cannot resolve ${host}: ${(e as { code?: string }).code ?? (e as Error).message}`,
      temporary: true,
    };
  }
  const list = allowList(policy.allowPrivateTargets);
  const refused = addresses.find((a) => !allowed(a, policy.allowPrivateTargets, list));
  if (refused !== undefined) {
    return {
      refusal: `${host} is a private address (${refused}); outbound.allowPrivateTargets does not allow it`,
    };
  }
  const address = addresses[0]!;
  return { url: parsed, address, family: isIP(address) === 6 ? 6 : 4 };
}

/** The refusal of a URL whose host is an IP address or a localhost name, without any lookup; null otherwise. */
export function literalTargetRefusal(url: string, allow: AllowPrivateTargets | undefined): string | null {
  let host: string;
  try {
    host = bareHost(new URL(url));
  } catch {
    return null;
  }
  const addresses = isIP(host) ? [host] : host === "localhost" || host.endsWith(".localhost") ? ["127.0.0.1"] : [];
  const list = allowList(allow);
  const refused = addresses.find((a) => !allowed(a, allow, list));
  return refused === undefined
    ? null
    : `${host} is a private address (${refused}); outbound.allowPrivateTargets does not allow it`;
}

export interface OutboundPost {
  headers: Record<string, string>;
  body: Uint8Array | string;
  timeoutMs: number;
  /** Extra trusted CA certificates (PEM). */
  ca?: string;
}

/**
 * POSTs to a checked target, connecting to its checked address. Resolves to the status code;
 * a 3xx is returned as it is, never followed. Rejects on a network error or the timeout.
 */
export function postToTarget(target: CheckedTarget, post: OutboundPost): Promise<number> {
  const request = target.url.protocol === "http:" ? httpRequest : httpsRequest;
  // The checked address, whatever a second lookup would say (DNS rebinding).
  const pinned = (_host: string, options: { all?: boolean }, done: (...args: unknown[]) => void) => {
    if (options?.all) done(null, [{ address: target.address, family: target.family }]);
    else done(null, target.address, target.family);
  };
  return new Promise((resolve, reject) => {
    const req = request(
      target.url,
      { method: "POST", headers: post.headers, ca: post.ca, timeout: post.timeoutMs, lookup: pinned as never },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
    req.end(post.body);
  });
}
