/**
 * `postern dns check`: each record of `dnsRecords` looked up through a resolver and judged by the
 * rule of its kind — exact where the value is ours (MX target, DKIM key, SRV target and port), by
 * meaning where the admin may have written it differently (SPF evaluated for the server's addresses,
 * DMARC/MTA-STS/TLS-RPT by their version tags, a name pointing at the server's addresses instead of a CNAME).
 */
import type { DnsResolve } from "../net/dns.ts";
import type { DnsRecord } from "./records.ts";

export type CheckStatus = "ok" | "missing" | "wrong" | "error";

export interface CheckResult {
  record: DnsRecord;
  status: CheckStatus;
  /** What was found, or why it is wrong. */
  detail?: string;
}

/** ENOTFOUND (NXDOMAIN) and ENODATA (no record of the type): the record is not there. */
function isAbsent(e: unknown): boolean {
  const code = (e as { code?: string }).code;
  return code === "ENOTFOUND" || code === "ENODATA" || code === "NXDOMAIN";
}

const sameName = (a: string, b: string) => a.toLowerCase().replace(/\.$/, "") === b.toLowerCase().replace(/\.$/, "");

/** TXT answers as whole strings (the <character-string>s of each record joined, RFC 7208 §3.3). */
async function txt(resolve: DnsResolve, name: string): Promise<string[]> {
  return ((await resolve(name, "TXT")) as string[][]).map((parts) => parts.join(""));
}

/** The value of `tag=` in a `tag=value; ...` record (DKIM, DMARC, MTA-STS, TLS-RPT). */
function tag(text: string, name: string): string | undefined {
  for (const part of text.split(";")) {
    const [k, ...v] = part.split("=");
    if (k?.trim().toLowerCase() === name) return v.join("=").replace(/\s+/g, "");
  }
  return undefined;
}

type Judge = (record: DnsRecord, resolve: DnsResolve, hostAddresses: string[]) => Promise<Omit<CheckResult, "record">>;

/** One TXT record starting with `version` at the name (a second one makes both invalid, e.g. RFC 7489 §6.6.3). */
function versioned(version: string, required: string[]): Judge {
  return async (record, resolve) => {
    const found = (await txt(resolve, record.name)).filter((t) => t.toLowerCase().startsWith(version.toLowerCase()));
    if (found.length === 0) return { status: "missing" };
    if (found.length > 1) return { status: "wrong", detail: `${found.length} ${version} records; there must be one` };
    const absent = required.filter((t) => !tag(found[0]!, t));
    return absent.length ? { status: "wrong", detail: `${found[0]} has no ${absent.join(", ")}` } : { status: "ok" };
  };
}

async function spfFor(record: DnsRecord, resolve: DnsResolve, hostAddresses: string[], sender: string) {
  const expected = record.type === "TXT" ? record.text : "";
  const found = (await txt(resolve, record.name)).filter((t) => /^v=spf1( |$)/i.test(t));
  if (found.length === 0) return { status: "missing" as const };
  if (found.length > 1) return { status: "wrong" as const, detail: `${found.length} SPF records (RFC 7208 §4.5)` };
  if (found[0] === expected || hostAddresses.length === 0) return { status: "ok" as const };
  // Another record may allow this server too: evaluate it for each of the server's addresses.
  const { spf } = await import("mailauth");
  for (const ip of hostAddresses) {
    const result = await spf({ ip, sender, helo: record.name, resolver: resolve as never });
    if (result.status.result !== "pass") {
      return { status: "wrong" as const, detail: `"${found[0]}" gives ${result.status.result} for ${ip}` };
    }
  }
  return { status: "ok" as const };
}

const JUDGES: Record<DnsRecord["kind"], Judge> = {
  async address(record, resolve) {
    if (record.type !== "A" && record.type !== "AAAA") throw new TypeError("not an address record");
    const found = (await resolve(record.name, record.type)) as string[];
    return found.includes(record.address) ? { status: "ok" } : { status: "wrong", detail: found.join(", ") };
  },
  async mx(record, resolve) {
    if (record.type !== "MX") throw new TypeError("not an MX record");
    const found = (await resolve(record.name, "MX")) as Array<{ exchange: string; priority: number }>;
    if (found.some((mx) => sameName(mx.exchange, record.exchange))) return { status: "ok" };
    return { status: "wrong", detail: found.map((mx) => `${mx.priority} ${mx.exchange}`).join(", ") };
  },
  spf: (record, resolve, hosts) => spfFor(record, resolve, hosts, `postmaster@${record.name}`),
  "spf-helo": (record, resolve, hosts) => spfFor(record, resolve, hosts, `postmaster@${record.name}`),
  async dkim(record, resolve) {
    if (record.type !== "TXT") throw new TypeError("not a TXT record");
    const keys = (await txt(resolve, record.name)).filter((t) => tag(t, "p") !== undefined);
    if (keys.length === 0) return { status: "missing" };
    if (keys.some((t) => tag(t, "p") === tag(record.text, "p"))) return { status: "ok" };
    return { status: "wrong", detail: "the published key is not this server's (p= differs)" };
  },
  dmarc: versioned("v=DMARC1", ["p"]),
  "mta-sts": versioned("v=STSv1", ["id"]),
  "tls-rpt": versioned("v=TLSRPTv1", ["rua"]),
  async cname(record, resolve, hosts) {
    if (record.type !== "CNAME") throw new TypeError("not a CNAME record");
    try {
      const found = (await resolve(record.name, "CNAME")) as string[];
      if (found.some((t) => sameName(t, record.target))) return { status: "ok" };
      return { status: "wrong", detail: `CNAME ${found.join(", ")}` };
    } catch (e) {
      if (!isAbsent(e) || hosts.length === 0) throw e;
    }
    // An A record with the server's address does as well as a CNAME to its name.
    const found = (await resolve(record.name, "A")) as string[];
    return found.some((a) => hosts.includes(a))
      ? { status: "ok" }
      : { status: "wrong", detail: `A ${found.join(", ")}` };
  },
  async srv(record, resolve) {
    if (record.type !== "SRV") throw new TypeError("not an SRV record");
    let found: Array<{ name: string; port: number; priority: number; weight: number }>;
    try {
      found = (await resolve(record.name, "SRV")) as typeof found;
    } catch (e) {
      // A service that is not offered may as well have no record at all.
      if (record.target === "." && isAbsent(e)) return { status: "ok" };
      throw e;
    }
    const match = found.some((s) =>
      (record.target === "." ? s.name === "" || s.name === "." : sameName(s.name, record.target)) &&
      s.port === record.port
    );
    return match ? { status: "ok" } : {
      status: "wrong",
      detail: found.map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name || "."}`).join(", "),
    };
  },
  async ptr(record, resolve) {
    if (record.type !== "PTR") throw new TypeError("not a PTR record");
    const found = (await resolve(record.name, "PTR")) as string[];
    return found.some((t) => sameName(t, record.target))
      ? { status: "ok" }
      : { status: "wrong", detail: found.join(", ") };
  },
};

/**
 * Checks every record. `hostAddresses` are the addresses the host name resolves to (looked up
 * by the caller when the admin gave none): SPF is evaluated for each and PTR records checked.
 */
export async function checkRecords(
  records: readonly DnsRecord[],
  resolve: DnsResolve,
  hostAddresses: string[],
): Promise<CheckResult[]> {
  return await Promise.all(records.map(async (record) => {
    try {
      return { record, ...(await JUDGES[record.kind](record, resolve, hostAddresses)) };
    } catch (e) {
      if (isAbsent(e)) return { record, status: "missing" as const };
      const code = (e as { code?: string }).code;
      return { record, status: "error" as const, detail: code ?? (e as Error).message };
    }
  }));
}
