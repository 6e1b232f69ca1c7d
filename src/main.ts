#!/usr/bin/env bun
/** The `postern` command line. Commands live in src/cli/; this file only dispatches. */
import { ALIAS_USAGE, aliasCommand } from "./cli/alias.ts";
import { UsageError } from "./cli/args.ts";
import { BACKUP_USAGE, backupCommand, restoreCommand } from "./cli/backup.ts";
import { DKIM_USAGE, dkimCommand } from "./cli/dkim.ts";
import { DNS_USAGE, dnsCommand } from "./cli/dns.ts";
import { DOMAIN_USAGE, domainCommand } from "./cli/domain.ts";
import { migrateCommand } from "./cli/migrate.ts";
import { QUEUE_USAGE, queueCommand } from "./cli/queue.ts";
import { reindexCommand } from "./cli/reindex.ts";
import { serveCommand } from "./cli/serve.ts";
import { SETUP_USAGE, setupCommand } from "./cli/setup.ts";
import { SIEVE_USAGE, sieveCommand } from "./cli/sieve.ts";
import { USER_USAGE, userCommand } from "./cli/user.ts";
import { ConfigError } from "./config/load.ts";
import { SchemaTooNewError, StoreError } from "./store/errors.ts";
import { VERSION } from "./util/version.ts";

const USAGE = `Postern ${VERSION}: an embeddable edge mail gateway

Usage: postern <command> [options]

Commands:
  setup <host> <admin address>
                             write a new config, create the domain and admin, print the DNS records
  serve                      start the configured listeners
  migrate                    apply database migrations
  reindex [--account ADDRESS]
                             recompute message summaries stored by an older build
  domain add|list|remove     manage domains
  user add|list|passwd|remove
                             manage accounts
  alias add|list|enable|disable|remove|owners
                             manage aliases, patterns and catch-alls
  sieve list|get|put|activate|delete <account>
                             manage an account's Sieve filters
  dkim generate <domain>     create a DKIM key and print its DNS record
  dns [check] <domain>       print the DNS records to publish, or check them
  queue list|show|retry|hold|release|delete
                             inspect and manage the outbound queue
  backup <file>              write a consistent copy of the data, keys and secrets (while serving)
  restore <file>             restore a backup into an empty data directory

Every command takes --config FILE (or POSTERN_CONFIG); POSTERN_* variables override config keys.
  --version                  print the version
  --help                     print this help

${DOMAIN_USAGE}

${USER_USAGE}

${ALIAS_USAGE}

${DKIM_USAGE}

${QUEUE_USAGE}

${BACKUP_USAGE}

${SETUP_USAGE}

${DNS_USAGE}

${SIEVE_USAGE}`;

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  serve: serveCommand,
  migrate: migrateCommand,
  reindex: reindexCommand,
  domain: domainCommand,
  user: userCommand,
  alias: aliasCommand,
  dkim: dkimCommand,
  queue: queueCommand,
  backup: backupCommand,
  restore: restoreCommand,
  setup: setupCommand,
  dns: dnsCommand,
  sieve: sieveCommand,
};

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === "--version" || command === "-v") {
    console.log(VERSION);
    return 0;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    console.log(USAGE);
    return 0;
  }
  const run = command ? COMMANDS[command] : undefined;
  if (!run) throw new UsageError(command ? `Unknown command: ${command}` : "Missing command", USAGE);
  return run(rest);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  if (e instanceof UsageError) {
    console.error(`postern: ${e.message}\n\n${e.usage ?? USAGE}`);
    process.exitCode = 2;
  } else if (e instanceof ConfigError) {
    console.error(`postern: ${e.message}`);
    process.exitCode = 2;
  } else if (e instanceof StoreError || e instanceof SchemaTooNewError) {
    console.error(`postern: ${e.message}`);
    process.exitCode = 1;
  } else {
    console.error("postern: failed:", e);
    process.exitCode = 1;
  }
}
