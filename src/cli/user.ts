import { parse, readStdin, UsageError } from "./args.ts";
import { withStore } from "./context.ts";

export const USER_USAGE = `Usage:
  postern user add <address> (--password P | --password-stdin) [--name "Display Name"] [--quota BYTES] [--admin]
  postern user admin <address> [--off]
  postern user list
  postern user passwd <address> (--password P | --password-stdin)
  postern user remove <address>`;

const OPTIONS = {
  password: { type: "string" },
  "password-stdin": { type: "boolean" },
  name: { type: "string" },
  quota: { type: "string" },
  admin: { type: "boolean" },
  off: { type: "boolean" },
} as const;

async function password(values: { password?: string; "password-stdin"?: boolean }): Promise<string> {
  if (values.password !== undefined && values["password-stdin"]) {
    throw new UsageError("Give either --password or --password-stdin, not both", USER_USAGE);
  }
  if (values["password-stdin"]) return readStdin();
  if (values.password !== undefined) return values.password;
  throw new UsageError("A password is required: --password P or --password-stdin", USER_USAGE);
}

export async function userCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS, USER_USAGE);
  const [action, address, ...extra] = positionals;
  if (action !== "list" && action !== undefined && (!address || extra.length > 0)) {
    throw new UsageError(`user ${action} takes one address`, USER_USAGE);
  }
  switch (action) {
    case "add": {
      const pw = await password(values);
      const quota = values.quota === undefined ? undefined : Number(values.quota);
      if (quota !== undefined && (!Number.isInteger(quota) || quota < 0)) {
        throw new UsageError(`--quota must be a whole number of bytes, not ${values.quota}`, USER_USAGE);
      }
      return withStore(values.config, async (store) => {
        const a = await store.accounts.add({ address: address!, password: pw, displayName: values.name, quota });
        if (values.admin) await store.accounts.setAdmin(a.address, true);
        console.log(`added account ${a.address}${values.admin ? " (admin)" : ""}`);
        return 0;
      });
    }
    case "list":
      if (address !== undefined) throw new UsageError("user list takes no arguments", USER_USAGE);
      return withStore(values.config, async (store) => {
        for (const a of await store.accounts.list()) {
          const state = [a.disabled ? "disabled" : "active", ...(a.admin ? ["admin"] : [])].join(",");
          console.log([a.address, a.displayName ?? "", state].join("\t"));
        }
        return 0;
      });
    case "admin":
      // The admin console (/admin) takes the account's address and password (issue 22).
      return withStore(values.config, async (store) => {
        await store.accounts.setAdmin(address!, !values.off);
        console.log(`${address} ${values.off ? "may no longer" : "may"} sign in to the admin console`);
        return 0;
      });
    case "passwd": {
      const pw = await password(values);
      return withStore(values.config, async (store) => {
        await store.accounts.setPassword(address!, pw);
        console.log(`changed the password of ${address}`);
        return 0;
      });
    }
    case "remove":
      return withStore(values.config, async (store) => {
        await store.accounts.remove(address!);
        console.log(`removed account ${address} with its mail`);
        return 0;
      });
    default:
      throw new UsageError(action ? `Unknown user command: ${action}` : "Missing user command", USER_USAGE);
  }
}
