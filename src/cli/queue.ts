/**
 * `postern queue`: the outbound queue from the command line, like Postfix's `mailq`, `postqueue -f`
 * and `postsuper -d|-h|-H`. It works on the database directly, so it runs beside the server; the
 * server picks up a retry at its next poll of the queue (at most 30 s, or delivery.retryDelay).
 */
import { formatQueue, queueView } from "../queue/view.ts";
import type { Store } from "../store/store.ts";
import { parse, UsageError } from "./args.ts";
import { withStore } from "./context.ts";

export const QUEUE_USAGE = `Usage:
  postern queue list [--json]            every queued message: id, size, arrival, sender, and each
                                         recipient with its state (queued, deferred, held) and last reply
  postern queue show <id> [--json]       one message
  postern queue retry <id> | --all       try the pending recipients again now
  postern queue hold <id>                keep the message out of delivery until released
  postern queue release <id>             give a held message back to delivery, due now
  postern queue delete <id>              drop the message without a bounce`;

function queueId(action: string, id: string | undefined, extra: string[]): number {
  if (!id || extra.length || !/^\d+$/.test(id)) {
    throw new UsageError(`queue ${action} takes one queue id (a number from queue list)`, QUEUE_USAGE);
  }
  return Number(id);
}

export async function queueCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: "boolean" }, all: { type: "boolean" } }, QUEUE_USAGE);
  const [action, id, ...extra] = positionals;
  switch (action) {
    case "list":
      if (id !== undefined) throw new UsageError("queue list takes no arguments", QUEUE_USAGE);
      return withStore(values.config, async (store) => {
        const messages = (await store.queue.list()).map(queueView);
        console.log(values.json ? JSON.stringify(messages, null, 2) : formatQueue(messages));
        return 0;
      });
    case "show": {
      const wanted = queueId(action, id, extra);
      return withStore(values.config, async (store) => {
        const [row] = await store.queue.list(wanted);
        if (!row) return missing(wanted);
        const view = queueView(row);
        console.log(
          values.json ? JSON.stringify(view, null, 2) : formatQueue([view]).split("\n").slice(0, -1).join("\n"),
        );
        return 0;
      });
    }
    case "retry":
      if (values.all) {
        if (id !== undefined) throw new UsageError("queue retry takes a queue id or --all, not both", QUEUE_USAGE);
        return withStore(values.config, async (store) => {
          console.log(`${await store.queue.retryAll()} recipients due now`);
          return 0;
        });
      }
      return act(values.config, queueId(action, id, extra), async (store, wanted) => {
        await store.queue.retryNow(wanted);
        return `message ${wanted} due now`;
      });
    case "hold":
      return act(values.config, queueId(action, id, extra), async (store, wanted) => {
        return `message ${wanted}: ${await store.queue.hold(wanted)} recipients held`;
      });
    case "release":
      return act(values.config, queueId(action, id, extra), async (store, wanted) => {
        return `message ${wanted}: ${await store.queue.releaseHeld(wanted)} recipients released`;
      });
    case "delete":
      return act(values.config, queueId(action, id, extra), async (store, wanted) => {
        await store.queue.drop(wanted);
        return `message ${wanted} deleted`;
      });
    default:
      throw new UsageError(action ? `Unknown queue command: ${action}` : "Missing queue command", QUEUE_USAGE);
  }
}

function missing(id: number): number {
  console.error(`postern: no queued message ${id}`);
  return 1;
}

/** Runs an action on one queued message, or says there is none (exit 1). */
function act(config: string | undefined, id: number, fn: (store: Store, id: number) => Promise<string>) {
  return withStore(config, async (store) => {
    if (!(await store.queue.message(id))) return missing(id);
    console.log(await fn(store, id));
    return 0;
  });
}
