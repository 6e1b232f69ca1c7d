import { loadConfig } from "../config/load.ts";
import { generateDkimKey } from "../forward/dkim.ts";
import { checkDomainName, checkSelector, nameError } from "../util/domain-name.ts";
import { parse, UsageError } from "./args.ts";

export const DKIM_USAGE = `Usage:
  postern dkim generate <domain> [--selector NAME] [--algorithm rsa|ed25519]
      create a signing key in <dataDir>/dkim/ and print the DNS TXT record to publish`;

export async function dkimCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { selector: { type: "string" }, algorithm: { type: "string" } },
    DKIM_USAGE,
  );
  const [action, name, ...extra] = positionals;
  if (action !== "generate") {
    throw new UsageError(action ? `Unknown dkim command: ${action}` : "Missing dkim command", DKIM_USAGE);
  }
  if (!name || extra.length) throw new UsageError("dkim generate takes one domain", DKIM_USAGE);
  // Issue 18: the domain and selector become a file name and a DNS name: LDH labels only, in A-labels.
  const domain = checkDomainName(name);
  if (!domain.ok) throw new UsageError(nameError("domain name", name, domain.reason), DKIM_USAGE);
  const algorithm = values.algorithm ?? "rsa";
  if (algorithm !== "rsa" && algorithm !== "ed25519") {
    throw new UsageError("--algorithm must be rsa or ed25519", DKIM_USAGE);
  }
  const wanted = values.selector ?? `postern${new Date().getUTCFullYear()}`;
  const selector = checkSelector(wanted);
  if (!selector.ok) {
    throw new UsageError(`--selector ${nameError("DKIM selector", wanted, selector.reason)}`, DKIM_USAGE);
  }
  const config = loadConfig({ file: values.config });
  const key = generateDkimKey(config.dataDir, domain.name, selector.name, algorithm);
  console.error(`wrote ${key.path}; mail from ${domain.name} is signed once the record below is published`);
  console.log(`${key.name}. IN TXT "${key.record}"`);
  return 0;
}
