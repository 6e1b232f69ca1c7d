/**
 * `postern setup <mail.example.com> <admin@example.com>`: from nothing to a configured server — the
 * config file, the database with the domain and its admin account, an admin API token, an SRS secret,
 * ACME certificates, a DKIM key — and every DNS record to publish.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseConfig } from "../config/load.ts";
import { generateDkimKey } from "../forward/dkim.ts";
import { parseAddress } from "../mime/address.ts";
import { Store } from "../store/store.ts";
import { checkDomainName, nameError } from "../util/domain-name.ts";
import { parse, readStdin, UsageError } from "./args.ts";
import { addressesOption, domainRecords, printRecords } from "./dns.ts";

export const SETUP_USAGE = `Usage:
  postern setup <mail.example.com> <admin@example.com> [--config FILE] [--password-stdin] [--ip ADDR[,ADDR]]
      write a new config (default ./postern.json; never over an existing one) with its data directory
      beside it, create the domain and the admin account, an admin API token and a DKIM key, and print
      every DNS record to publish. The password is printed once unless read with --password-stdin.`;

/** A secret of `bytes` random bytes, URL-safe. */
const secret = (bytes: number) => randomBytes(bytes).toString("base64url");

/**
 * The production listeners: every mail port on all addresses; the HTTP listener on 80 for ACME HTTP-01 and
 * autoconfig. "::" takes IPv4 too (Linux, Bun and Deno alike); a machine without IPv6 needs "0.0.0.0".
 */
function productionListeners() {
  const on = (port: number) => ({ host: "::", port });
  return {
    smtp: on(25),
    submission: on(587),
    submissions: on(465),
    imap: false,
    imaps: on(993),
    pop3: false,
    pop3s: on(995),
    http: on(80),
    https: on(443),
  };
}

export async function setupCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    { "password-stdin": { type: "boolean" }, ip: { type: "string" } },
    SETUP_USAGE,
  );
  const [host, admin, ...extra] = positionals;
  if (!host || !admin || extra.length) {
    throw new UsageError("setup takes a host name and an admin address", SETUP_USAGE);
  }
  const hostname = checkDomainName(host);
  if (!hostname.ok) throw new UsageError(nameError("domain name", host, hostname.reason), SETUP_USAGE);
  if (!hostname.name.includes(".")) throw new UsageError(`${host} is not a fully qualified host name`, SETUP_USAGE);
  const address = parseAddress(admin);
  if (!address) throw new UsageError(`${admin} is not an address local@domain`, SETUP_USAGE);
  const domain = address.domain;
  const ips = addressesOption(values.ip);

  const file = resolve(values.config ?? process.env.POSTERN_CONFIG ?? "postern.json");
  if (existsSync(file)) {
    console.error(`postern: ${file} exists; setup writes a new config and never replaces one`);
    return 1;
  }
  const dataDir = join(dirname(file), "data");
  if (existsSync(join(dataDir, "postern.db"))) {
    console.error(`postern: ${dataDir} already holds a database; setup starts a new server`);
    return 1;
  }
  const password = values["password-stdin"] ? await readStdin() : secret(18);
  if (password === "") throw new UsageError("--password-stdin read an empty password", SETUP_USAGE);

  const year = new Date().getUTCFullYear();
  const input = {
    hostname: hostname.name,
    dataDir,
    postmaster: `${address.local}@${domain}`,
    listeners: productionListeners(),
    api: { adminToken: secret(32) },
    srs: { secret: secret(24) },
    // Let's Encrypt for the host name and the web names `postern dns` asks for (issue 20, item 2).
    tls: {
      acme: {
        email: `${address.local}@${domain}`,
        names: [hostname.name, ...["mta-sts", "autoconfig", "autodiscover"].map((sub) => `${sub}.${domain}`)],
      },
    },
  };
  // Checked before anything is written: what setup writes, serve must start with.
  const config = parseConfig(input, file);

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = await Store.open(config.database);
  try {
    await store.migrate();
    await store.domains.add(domain, "mailbox");
    await store.accounts.add({ address: input.postmaster, password });
  } finally {
    store.close();
  }
  const key = generateDkimKey(dataDir, domain, `postern${year}`, "rsa");
  // The file holds the admin token and the SRS secret: for the owner only. `wx`: never over a file.
  writeFileSync(file, `${JSON.stringify(input, null, 2)}\n`, { mode: 0o600, flag: "wx" });

  const out = [
    `wrote ${file} (mode 0600: it holds api.adminToken and srs.secret)`,
    `data directory ${dataDir}`,
    `created the domain ${domain} and the account ${input.postmaster}`,
    ...(values["password-stdin"]
      ? []
      : [`  password: ${password}   (shown only now; change it with postern user passwd)`]),
    `DKIM key ${key.path}`,
    "",
    `Publish these DNS records (\`postern dns ${domain}\` prints them again, \`postern dns check ${domain}\` checks them):`,
    "",
    printRecords(domainRecords(config, domain, ips), config.hostname),
    "",
    `Once they resolve (postern dns check ${domain}), start the server: postern serve --config ${file}`,
    "It orders a Let's Encrypt certificate for the names above (tls.acme) through the HTTP listener on port 80.",
  ];
  console.log(out.join("\n"));
  return 0;
}
