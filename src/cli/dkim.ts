import { existsSync, readFileSync } from "node:fs";
import { loadConfig } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { generateDkimKey } from "../forward/dkim.ts";
import { activateDkimKey, dkimRecord, listDkimKeyFiles } from "../forward/dkim-keys.ts";
import { checkDomainName, checkSelector, nameError } from "../util/domain-name.ts";
import { parse, UsageError } from "./args.ts";

export const DKIM_USAGE = `Usage:
  postern dkim generate <domain> [--selector NAME] [--algorithm rsa|ed25519] [--force]
      create a signing key in <dataDir>/dkim/ and print the DNS TXT record to publish. The
      domain's first key signs at once; another one (a new selector, for rotation) waits for
      \`dkim activate\`. An existing key is never replaced without --force.
  postern dkim activate <domain> <selector>
      sign the domain's mail with that key from now on (publish its record first)
  postern dkim show <domain>
      print the domain's DNS TXT records again, the active one marked`;

function domainArg(name: string | undefined, action: string): string {
  if (!name) throw new UsageError(`dkim ${action} takes a domain`, DKIM_USAGE);
  // Issue 18: the domain and selector become a file name and a DNS name: LDH labels only, in A-labels.
  const domain = checkDomainName(name);
  if (!domain.ok) throw new UsageError(nameError("domain name", name, domain.reason), DKIM_USAGE);
  return domain.name;
}

function selectorArg(wanted: string, option = ""): string {
  const selector = checkSelector(wanted);
  if (!selector.ok) throw new UsageError(`${option}${nameError("DKIM selector", wanted, selector.reason)}`, DKIM_USAGE);
  return selector.name;
}

/** A record as a zone file line (as `dkim generate` always printed it: one string). */
function zoneLine(name: string, record: string): string {
  return `${name}. IN TXT "${record}"`;
}

export async function dkimCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { selector: { type: "string" }, algorithm: { type: "string" }, force: { type: "boolean" } },
    DKIM_USAGE,
  );
  const [action, name, ...extra] = positionals;
  switch (action) {
    case "generate":
      if (extra.length) throw new UsageError("dkim generate takes one domain", DKIM_USAGE);
      return generate(domainArg(name, action), values);
    case "activate": {
      if (extra.length !== 1) throw new UsageError("dkim activate takes a domain and a selector", DKIM_USAGE);
      return activate(domainArg(name, action), selectorArg(extra[0]!), loadConfig({ file: values.config }));
    }
    case "show":
      if (extra.length) throw new UsageError("dkim show takes one domain", DKIM_USAGE);
      return show(domainArg(name, action), loadConfig({ file: values.config }));
    default:
      throw new UsageError(action ? `Unknown dkim command: ${action}` : "Missing dkim command", DKIM_USAGE);
  }
}

function generate(
  domain: string,
  values: { selector?: string; algorithm?: string; force?: boolean; config?: string },
): number {
  const algorithm = values.algorithm ?? "rsa";
  if (algorithm !== "rsa" && algorithm !== "ed25519") {
    throw new UsageError("--algorithm must be rsa or ed25519", DKIM_USAGE);
  }
  const selector = selectorArg(values.selector ?? `postern${new Date().getUTCFullYear()}`, "--selector ");
  const config = loadConfig({ file: values.config });
  const others = listDkimKeyFiles(config.dataDir).filter((k) => k.domain === domain);
  const same = others.find((k) => k.selector === selector);
  if (same && !values.force) {
    // Issue 20: replacing a key breaks DKIM for the record already in DNS, at once, in the running server.
    console.error(
      `postern: ${same.path} exists: ${domain} already has a key with selector ${selector}${
        same.active ? ", and it signs its mail" : ""
      }. Replacing it breaks DKIM until the new record is published. For a new key, choose another selector ` +
        `(--selector NAME), publish its record, then run \`postern dkim activate ${domain} NAME\`; ` +
        `to replace this one anyway, add --force.`,
    );
    return 1;
  }
  // A second key must not take over: the one signing now is written down before the new file appears.
  const signing = others.find((k) => k.active && k.selector !== selector);
  if (signing) activateDkimKey(config.dataDir, domain, signing.selector);
  const key = generateDkimKey(config.dataDir, domain, selector, algorithm);
  const signs = !signing;
  console.error(
    signs
      ? `wrote ${key.path}; mail from ${domain} is signed with it: publish the record below now`
      : `wrote ${key.path}; not used yet: publish the record below, then run \`postern dkim activate ${domain} ${selector}\``,
  );
  console.log(zoneLine(key.name, key.record));
  return 0;
}

function activate(domain: string, selector: string, config: Config): number {
  const key = listDkimKeyFiles(config.dataDir).find((k) => k.domain === domain && k.selector === selector);
  if (!key) {
    console.error(`postern: no DKIM key for ${domain} with selector ${selector} (see \`postern dkim show ${domain}\`)`);
    return 1;
  }
  activateDkimKey(config.dataDir, domain, selector);
  if (config.dkim[domain]) {
    console.error(`postern: note: dkim.${domain} in the config names ${config.dkim[domain]!.privateKey}, which wins`);
  }
  console.error(`mail from ${domain} is signed with selector ${selector} from now on; its record must be in DNS:`);
  console.log(zoneLine(`${selector}._domainkey.${domain}`, dkimRecord(readFileSync(key.path, "utf8"))));
  return 0;
}

function show(domain: string, config: Config): number {
  const lines: string[] = [];
  const configured = config.dkim[domain];
  for (const key of listDkimKeyFiles(config.dataDir).filter((k) => k.domain === domain)) {
    const state = key.active && !configured ? "active: signs the domain's mail" : "inactive";
    lines.push(`; selector ${key.selector} (${state}) ${key.path}`);
    lines.push(zoneLine(`${key.selector}._domainkey.${domain}`, dkimRecord(readFileSync(key.path, "utf8"))));
  }
  if (configured && existsSync(configured.privateKey)) {
    lines.push(`; selector ${configured.selector} (active: dkim.${domain} in the config) ${configured.privateKey}`);
    lines.push(
      zoneLine(`${configured.selector}._domainkey.${domain}`, dkimRecord(readFileSync(configured.privateKey, "utf8"))),
    );
  }
  if (!lines.length) {
    console.error(`postern: no DKIM key for ${domain}; make one with \`postern dkim generate ${domain}\``);
    return 1;
  }
  console.log(lines.join("\n"));
  return 0;
}
