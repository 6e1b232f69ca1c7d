import type { AliasDetails } from "../store/aliases.ts";
import { parse, UsageError } from "./args.ts";
import { withStore } from "./context.ts";

export const ALIAS_USAGE = `Usage:
  postern alias add <address> <target>...     address is user@domain, a pattern (shop-*@domain: * is any
                                              run of characters) or @domain for a catch-all; a target is
                                              an address or an https:// webhook URL (http:// to loopback,
                                              or anywhere with webhooks.allowHttp)
  postern alias list                          address, targets, state, counters and owner, tab-separated
  postern alias disable <address>             refuse its mail (550 5.1.1, or drop: aliases.onDisabled)
  postern alias enable <address>
  postern alias remove <address> [<target>...]
  postern alias owners <domain> on|off        let accounts manage their own aliases at the domain
                                              with their API token (/api/v1/me/aliases)
  postern alias reverse <domain> on|off       reply through the alias: forwarded mail gets a Reply-To
                                              of reverse addresses (r+<token>@domain) that the owner
                                              writes to from submission (needs srs.secret)`;

/** One line of `alias list`: what an operator greps for, and stable for scripts. */
export function aliasLine(a: AliasDetails): string {
  return [
    a.address,
    a.targets.join(" "),
    a.disabled ? "disabled" : "enabled",
    `forwarded=${a.forwarded}`,
    `refused=${a.refused}`,
    `last-used=${a.lastUsedAt?.toISOString() ?? "never"}`,
    ...(a.owner ? [`owner=${a.owner}`] : []),
  ].join("\t");
}

export async function aliasCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, ALIAS_USAGE);
  const [action, address, ...targets] = positionals;
  switch (action) {
    case "add":
      if (!address || targets.length === 0) {
        throw new UsageError("alias add takes an address and at least one target", ALIAS_USAGE);
      }
      return withStore(values.config, async (store, config) => {
        const a = await store.aliases.add(address, targets, {
          allowHttp: config.webhooks.allowHttp,
          allowPrivateTargets: config.outbound.allowPrivateTargets,
        });
        console.log(`${a.address} -> ${a.targets.join(", ")}`);
        return 0;
      });
    case "list":
      if (address !== undefined) throw new UsageError("alias list takes no arguments", ALIAS_USAGE);
      return withStore(values.config, async (store) => {
        for (const a of await store.aliases.details()) console.log(aliasLine(a));
        return 0;
      });
    case "disable":
    case "enable":
      if (!address || targets.length > 0) throw new UsageError(`alias ${action} takes one address`, ALIAS_USAGE);
      return withStore(values.config, async (store) => {
        const a = await store.aliases.setDisabled(address, action === "disable");
        console.log(`${a.address} ${a.disabled ? "disabled" : "enabled"}`);
        return 0;
      });
    case "remove":
      if (!address) throw new UsageError("alias remove takes an address", ALIAS_USAGE);
      return withStore(values.config, async (store) => {
        await store.aliases.remove(address, targets);
        console.log(targets.length ? `removed ${targets.join(", ")} from ${address}` : `removed alias ${address}`);
        return 0;
      });
    case "owners": {
      const [setting, ...extra] = targets;
      if (!address || (setting !== "on" && setting !== "off") || extra.length > 0) {
        throw new UsageError("alias owners takes a domain and on or off", ALIAS_USAGE);
      }
      return withStore(values.config, async (store) => {
        await store.aliases.allowOwners(address, setting === "on");
        console.log(`owners ${setting === "on" ? "may" : "may not"} manage their aliases at ${address}`);
        return 0;
      });
    }
    case "reverse": {
      const [setting, ...extra] = targets;
      if (!address || (setting !== "on" && setting !== "off") || extra.length > 0) {
        throw new UsageError("alias reverse takes a domain and on or off", ALIAS_USAGE);
      }
      return withStore(values.config, async (store, config) => {
        await store.aliases.reverse.enable(address, setting === "on");
        console.log(`reverse aliases ${setting === "on" ? "on" : "off"} at ${address}`);
        if (setting === "on" && !config.srs.secret) {
          console.error("warning: srs.secret is not set; reverse aliases need it");
        }
        return 0;
      });
    }
    default:
      throw new UsageError(action ? `Unknown alias command: ${action}` : "Missing alias command", ALIAS_USAGE);
  }
}
