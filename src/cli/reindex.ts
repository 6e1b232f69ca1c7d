import { SUMMARY_VERSION } from "../mime/summary.ts";
import { StoreError } from "../store/errors.ts";
import { parse, UsageError } from "./args.ts";
import { withStore } from "./context.ts";

export const REINDEX_USAGE = `Usage: postern reindex [--account ADDRESS] [--config FILE]
  Recomputes the stored summaries of messages written by an older build, from their raw bytes,
  in batches; safe while the server runs, and an interrupted run continues where it stopped.`;

export async function reindexCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { account: { type: "string", short: "a" } }, REINDEX_USAGE);
  if (positionals.length) throw new UsageError("reindex takes no arguments", REINDEX_USAGE);
  return withStore(values.config, async (store) => {
    let accountId: number | undefined;
    if (values.account !== undefined) {
      const account = await store.accounts.get(values.account);
      if (!account) throw new StoreError("not-found", `No such account: ${values.account}`);
      accountId = account.id;
    }
    const result = await store.summaries.reindex({ accountId });
    const scope = values.account ? ` of ${values.account}` : "";
    console.log(
      result.updated === 0 && result.scanned === 0
        ? `every message${scope} is up to date (summary version ${SUMMARY_VERSION})`
        : `reindexed ${result.updated} of ${result.scanned} message${
          result.scanned === 1 ? "" : "s"
        }${scope} (summary version ${SUMMARY_VERSION})`,
    );
    const left = await store.summaries.stale(accountId);
    if (left === 0) return 0;
    console.error(
      `postern: ${left} message${left === 1 ? "" : "s"}${scope} could not be reindexed (unreadable stored bytes)`,
    );
    return 1;
  });
}
