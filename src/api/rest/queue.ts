/**
 * REST view of the outbound queue: list, inspect, retry now, delete.
 */
import * as v from "valibot";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import type { RouteRegistry } from "./registry.ts";

const Recipient = v.object({
  recipient: v.string(),
  status: v.string(),
  attempts: v.number(),
  nextAttemptAt: v.string(),
  lastReply: v.nullable(v.string()),
});
const QueuedMessage = v.object({
  id: v.number(),
  sender: v.string(),
  createdAt: v.string(),
  recipients: v.array(Recipient),
});
const idParams = v.object({ id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a queue id"), v.transform(Number)) });

export function queueRoutes(routes: RouteRegistry, store: Store, wake: () => void): void {
  const load = async (id?: number) => {
    return (await store.queue.list(id)).map((row) => ({
      id: row.id,
      sender: row.sender,
      createdAt: row.createdAt.toISOString(),
      recipients: row.recipients.map((r) => ({
        recipient: r.recipient,
        status: r.status,
        attempts: r.attempts,
        nextAttemptAt: r.nextAttemptAt.toISOString(),
        lastReply: r.lastReply,
      })),
    }));
  };
  routes.add({
    method: "get",
    path: "/api/v1/queue",
    tag: "queue",
    summary: "Messages waiting in the outbound queue",
    response: { status: 200, schema: v.array(QueuedMessage) },
    handler: async (c) => c.json(await load()),
  });
  routes.add({
    method: "get",
    path: "/api/v1/queue/{id}",
    tag: "queue",
    summary: "One queued message",
    params: idParams,
    response: { status: 200, schema: QueuedMessage },
    handler: async (c, { params }) => {
      const [item] = await load(params.id);
      return item ? c.json(item) : problem(c, 404, "not-found", `No queued message ${params.id}`);
    },
  });
  routes.add({
    method: "post",
    path: "/api/v1/queue/{id}/retry",
    tag: "queue",
    summary: "Try the pending recipients again now",
    params: idParams,
    response: { status: 202 },
    handler: async (c, { params }) => {
      const [item] = await load(params.id);
      if (!item) return problem(c, 404, "not-found", `No queued message ${params.id}`);
      await store.queue.retryNow(params.id);
      wake();
      return c.body(null, 202);
    },
  });
  routes.add({
    method: "delete",
    path: "/api/v1/queue/{id}",
    tag: "queue",
    summary: "Drop a queued message without a bounce",
    params: idParams,
    response: { status: 204 },
    handler: async (c, { params }) => {
      const [item] = await load(params.id);
      if (!item) return problem(c, 404, "not-found", `No queued message ${params.id}`);
      await store.queue.drop(params.id);
      return c.body(null, 204);
    },
  });
}
