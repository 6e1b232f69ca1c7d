import { checkDomainName, nameError } from "../util/domain-name.ts";
import { parse, UsageError } from "./args.ts";
import { withStore } from "./context.ts";

export const DOMAIN_USAGE = `Usage:
  postern domain add <domain> [--forward]   add a domain (--forward: aliases only, no mailboxes)
  postern domain list
  postern domain remove <domain>`;

export async function domainCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { forward: { type: "boolean" } }, DOMAIN_USAGE);
  const [action, name, ...extra] = positionals;
  const needsName = action === "add" || action === "remove";
  if (needsName ? !name || extra.length > 0 : name !== undefined) {
    throw new UsageError(
      needsName ? `domain ${action} takes one domain name` : "domain list takes no arguments",
      DOMAIN_USAGE,
    );
  }
  if (needsName) {
    const checked = checkDomainName(name!);
    if (!checked.ok) throw new UsageError(nameError("domain name", name!, checked.reason), DOMAIN_USAGE);
  }
  switch (action) {
    case "add":
      return withStore(values.config, async (store) => {
        const d = await store.domains.add(name!, values.forward ? "forward" : "mailbox");
        console.log(`added ${d.kind} domain ${d.name}`);
        return 0;
      });
    case "list":
      return withStore(values.config, async (store) => {
        for (const d of await store.domains.list()) console.log(`${d.name}\t${d.kind}`);
        return 0;
      });
    case "remove":
      return withStore(values.config, async (store) => {
        await store.domains.remove(name!);
        console.log(`removed domain ${name}`);
        return 0;
      });
    default:
      throw new UsageError(action ? `Unknown domain command: ${action}` : "Missing domain command", DOMAIN_USAGE);
  }
}
