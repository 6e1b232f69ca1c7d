/** `postern dns <domain>` prints the records to publish; `postern dns check <domain>` looks each one up. */
import { isIP } from "node:net";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { checkRecords, type CheckResult } from "../dns-records/check.ts";
import { dkimRecord, type DnsRecord, dnsRecords, formatRecord } from "../dns-records/records.ts";
import { loadDkimKeys } from "../forward/dkim.ts";
import { createResolver, type DnsResolve } from "../net/dns.ts";
import { checkDomainName, nameError } from "../util/domain-name.ts";
import { parse, UsageError } from "./args.ts";

export const DNS_USAGE = `Usage:
  postern dns <domain> [--ip ADDR[,ADDR]]        print every DNS record to publish for the domain
  postern dns check <domain> [--ip ADDR[,ADDR]]  look each one up (through dns.servers); exit 1 when
                                                  one is missing or wrong
  --ip: the server's public addresses (A/AAAA and PTR); without it, check uses what the host name resolves to`;

/** The records for `domain` from the config, its DKIM keys in the data directory and the given addresses. */
export function domainRecords(config: Config, domain: string, addresses: readonly string[]): DnsRecord[] {
  const keys = loadDkimKeys(config.dkim, config.dataDir);
  const key = keys.get(domain);
  return dnsRecords({
    domain,
    hostname: config.hostname,
    listeners: config.listeners,
    dkim: key ? [{ selector: key.selector, record: dkimRecord(key.privateKey) }] : [],
    mtaSts: config.mtaSts,
    reportAddress: config.postmaster ?? `postmaster@${domain}`,
    addresses,
  });
}

/** The records as a zone-file fragment, each under a comment saying what it is for. */
export function printRecords(records: readonly DnsRecord[], hostname: string): string {
  const lines: string[] = [];
  if (!records.some((r) => r.kind === "address")) {
    lines.push(`; ${hostname} needs A (and AAAA) records with this server's public addresses (give them with --ip)`);
    lines.push(`; and their reverse DNS (PTR) set to ${hostname} by the addresses' provider`);
  }
  for (const record of records) {
    lines.push(`; ${record.purpose}`, formatRecord(record));
  }
  return lines.join("\n");
}

/** `--ip 192.0.2.1,2001:db8::1` */
export function addressesOption(value: string | undefined): string[] {
  const list = value ? value.split(",").map((a) => a.trim()).filter(Boolean) : [];
  for (const a of list) {
    if (!isIP(a)) throw new UsageError(`--ip: ${JSON.stringify(a)} is not an IP address`, DNS_USAGE);
  }
  return list;
}

/**
 * `postern dns check` as a function (the admin console shows it too): each record of the domain looked up through
 * `dns.servers`; without `addresses`, the host name's own.
 */
export async function checkDomain(
  config: Config,
  domain: string,
  addresses: string[] = [],
): Promise<{ addresses: string[]; results: CheckResult[] }> {
  const resolve = createResolver(config.dns.servers, {
    timeoutMs: config.dns.timeout * 1000,
    attempts: config.dns.attempts,
  });
  if (addresses.length === 0) addresses = await hostAddresses(resolve, config.hostname);
  return { addresses, results: await checkRecords(domainRecords(config, domain, addresses), resolve, addresses) };
}

/** The host name's A and AAAA records (none when it has neither). */
async function hostAddresses(resolve: DnsResolve, hostname: string): Promise<string[]> {
  const found: string[] = [];
  for (const type of ["A", "AAAA"]) {
    try {
      found.push(...((await resolve(hostname, type)) as string[]));
    } catch {
      // Reported by the check of the address records.
    }
  }
  return found;
}

const LABEL: Record<CheckResult["status"], string> = { ok: "ok", missing: "MISSING", wrong: "WRONG", error: "ERROR" };

export async function dnsCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { ip: { type: "string" } }, DNS_USAGE);
  const checking = positionals[0] === "check";
  const [name, ...extra] = checking ? positionals.slice(1) : positionals;
  if (!name || extra.length) throw new UsageError(`dns ${checking ? "check " : ""}takes one domain`, DNS_USAGE);
  const checked = checkDomainName(name);
  if (!checked.ok) throw new UsageError(nameError("domain name", name, checked.reason), DNS_USAGE);
  const config = loadConfig({ file: values.config });
  let addresses = addressesOption(values.ip);
  if (!checking) {
    console.log(printRecords(domainRecords(config, checked.name, addresses), config.hostname));
    return 0;
  }
  const checkedDomain = await checkDomain(config, checked.name, addresses);
  addresses = checkedDomain.addresses;
  if (addresses.length === 0) {
    console.log(`MISSING ${config.hostname} A/AAAA: the host name does not resolve to an address`);
  }
  const results = checkedDomain.results;
  let problems = addresses.length === 0 ? 1 : 0;
  for (const { record, status, detail } of results) {
    if (status !== "ok") problems++;
    const line = `${LABEL[status].padEnd(7)} ${record.name} ${record.type}: ${record.purpose}`;
    console.log(
      status === "ok"
        ? line
        : `${line}\n        want: ${formatRecord(record)}${detail ? `\n        found: ${detail}` : ""}`,
    );
  }
  console.log(problems ? `${problems} record(s) missing or wrong` : "all records are in place");
  return problems ? 1 : 0;
}
