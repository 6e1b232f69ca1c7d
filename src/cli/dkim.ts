import { loadConfig } from "../config/load.ts";
import { generateDkimKey } from "../forward/dkim.ts";
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
  const [action, domain, ...extra] = positionals;
  if (action !== "generate") {
    throw new UsageError(action ? `Unknown dkim command: ${action}` : "Missing dkim command", DKIM_USAGE);
  }
  if (!domain || extra.length) throw new UsageError("dkim generate takes one domain", DKIM_USAGE);
  const algorithm = values.algorithm ?? "rsa";
  if (algorithm !== "rsa" && algorithm !== "ed25519") {
    throw new UsageError("--algorithm must be rsa or ed25519", DKIM_USAGE);
  }
  const selector = values.selector ?? `postern${new Date().getUTCFullYear()}`;
  if (!/^[a-z0-9][a-z0-9-]*$/i.test(selector)) {
    throw new UsageError("--selector must be letters, digits and hyphens", DKIM_USAGE);
  }
  const config = loadConfig({ file: values.config });
  const key = generateDkimKey(config.dataDir, domain, selector, algorithm);
  console.error(`wrote ${key.path}; mail from ${domain} is signed once the record below is published`);
  console.log(`${key.name}. IN TXT "${key.record}"`);
  return 0;
}
