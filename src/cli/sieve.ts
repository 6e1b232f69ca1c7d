/** `postern sieve list|get|put|activate|delete <account>`: an account's Sieve scripts (issue 21). */
import { readFileSync } from "node:fs";
import { compileSieve } from "../sieve/index.ts";
import { StoreError } from "../store/errors.ts";
import type { Store } from "../store/store.ts";
import { parse, readStdin, UsageError } from "./args.ts";
import { withStore } from "./context.ts";

export const SIEVE_USAGE = `Usage:
  postern sieve list <account>
  postern sieve get <account> <name>
  postern sieve put <account> <name> [FILE] [--activate]   (the script from FILE, or standard input)
  postern sieve activate <account> [<name>]                (no name: no script runs)
  postern sieve delete <account> <name>`;

const OPTIONS = { activate: { type: "boolean" } } as const;

async function accountId(store: Store, address: string): Promise<number> {
  const account = await store.accounts.get(address);
  if (!account) throw new StoreError("not-found", `No account ${address}`);
  return account.id;
}

export async function sieveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS, SIEVE_USAGE);
  const [action, address, name, ...extra] = positionals;
  if (!action) throw new UsageError("Missing sieve command", SIEVE_USAGE);
  if (!address) throw new UsageError(`sieve ${action} needs an account address`, SIEVE_USAGE);
  const needsName = action === "get" || action === "put" || action === "delete";
  if (needsName && !name) throw new UsageError(`sieve ${action} needs a script name`, SIEVE_USAGE);
  const allowed = action === "put" ? 1 : 0;
  if (extra.length > allowed || (action === "list" && name !== undefined)) {
    throw new UsageError(`Too many arguments for sieve ${action}`, SIEVE_USAGE);
  }
  switch (action) {
    case "list":
      return withStore(values.config, async (store) => {
        for (const s of await store.sieve.list(await accountId(store, address))) {
          console.log([s.name, s.active ? "active" : "", String(s.size), s.updatedAt.toISOString()].join("\t"));
        }
        return 0;
      });
    case "get":
      return withStore(values.config, async (store) => {
        const content = await store.sieve.get(await accountId(store, address), name!);
        if (content === null) throw new StoreError("not-found", `No script named ${JSON.stringify(name)}`);
        process.stdout.write(content);
        return 0;
      });
    case "put": {
      const file = extra[0];
      const content = file === undefined || file === "-" ? await readStdin() + "\n" : readFileSync(file, "utf8");
      const compiled = compileSieve(content);
      if (!compiled.ok) {
        console.error(`postern: script ${name} not stored: ${compiled.error.message}`);
        return 1;
      }
      return withStore(values.config, async (store) => {
        const id = await accountId(store, address);
        await store.sieve.put(id, name!, content);
        if (values.activate) await store.sieve.activate(id, name!);
        console.log(`stored script ${name} for ${address}${values.activate ? ", active" : ""}`);
        return 0;
      });
    }
    case "activate":
      return withStore(values.config, async (store) => {
        await store.sieve.activate(await accountId(store, address), name ?? null);
        console.log(name ? `script ${name} is active for ${address}` : `no script is active for ${address}`);
        return 0;
      });
    case "delete":
      return withStore(values.config, async (store) => {
        await store.sieve.delete(await accountId(store, address), name!);
        console.log(`deleted script ${name} of ${address}`);
        return 0;
      });
    default:
      throw new UsageError(`Unknown sieve command: ${action}`, SIEVE_USAGE);
  }
}
