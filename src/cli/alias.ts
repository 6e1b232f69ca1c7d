import { isWebhookUrl, webhookRefusal } from "../forward/webhook-target.ts";
import { StoreError } from "../store/errors.ts";
import { parse, UsageError } from "./args.ts";
import { withStore } from "./context.ts";

export const ALIAS_USAGE = `Usage:
  postern alias add <address> <target>...     address is user@domain, or @domain for a catch-all;
                                              a target is an address or an https:// webhook URL
                                              (http:// to loopback, or anywhere with webhooks.allowHttp)
  postern alias list
  postern alias remove <address> [<target>...]`;

export async function aliasCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, ALIAS_USAGE);
  const [action, address, ...targets] = positionals;
  switch (action) {
    case "add":
      if (!address || targets.length === 0) {
        throw new UsageError("alias add takes an address and at least one target", ALIAS_USAGE);
      }
      return withStore(values.config, async (store, config) => {
        for (const target of targets.filter(isWebhookUrl)) {
          const refusal = webhookRefusal(target, { allowHttp: config.webhooks.allowHttp });
          if (refusal) throw new StoreError("invalid", refusal);
        }
        const a = await store.aliases.add(address, targets);
        console.log(`${a.address} -> ${a.targets.join(", ")}`);
        return 0;
      });
    case "list":
      if (address !== undefined) throw new UsageError("alias list takes no arguments", ALIAS_USAGE);
      return withStore(values.config, async (store) => {
        for (const a of await store.aliases.list()) console.log(`${a.address}\t${a.targets.join(" ")}`);
        return 0;
      });
    case "remove":
      if (!address) throw new UsageError("alias remove takes an address", ALIAS_USAGE);
      return withStore(values.config, async (store) => {
        await store.aliases.remove(address, targets);
        console.log(targets.length ? `removed ${targets.join(", ")} from ${address}` : `removed alias ${address}`);
        return 0;
      });
    default:
      throw new UsageError(action ? `Unknown alias command: ${action}` : "Missing alias command", ALIAS_USAGE);
  }
}
