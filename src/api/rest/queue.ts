/**
 * REST view of the outbound queue: list, inspect, retry now (one or all), hold, release, delete —
 * what `postern queue` does, with the same fields (src/queue/view.ts).
 */
import * as v from "valibot";
import { queueView } from "../../queue/view.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import type { RouteRegistry } from "./registry.ts";

const Recipient = v.object({
  recipient: v.string(),
  status: v.picklist(["queued", "deferred", "held", "delivered", "failed"]),
  attempts: v.number(),
  nextAttemptAt: v.string(),
  lastReply: v.nullable(v.string()),
});
const QueuedMessage = v.object({
  id: v.number(),
  sender: v.string(),
  size: v.number(),
  createdAt: v.string(),
  recipients: v.array(Recipient),
});
const Changed = v.object({ recipients: v.number() });
const idParams = v.object({ id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a queue id"), v.transform(Number)) });

export function queueRoutes(routes: RouteRegistry, store: Store, wake: () => void): void {
  const load = async (id?: number) => (await store.queue.list(id)).map(queueView);
  const notFound = (c: Parameters<typeof problem>[0], id: number) =>
    problem(c, 404, "not-found", `No queued message ${id}`);
  routes.add({
    method: "get",
    path: "/api/v1/queue",
    tag: "queue",
    summary: "Messages waiting in the outbound queue",
    response: { status: 200, schema: v.array(QueuedMessage) },
    handler: async (c) => c.json(await load()),
  });
  routes.add({
    method: "post",
    path: "/api/v1/queue/retry",
    tag: "queue",
    summary: "Try every pending recipient of every queued message again now",
    response: { status: 200, schema: Changed },
    handler: async (c) => {
      const recipients = await store.queue.retryAll();
      wake();
      return c.json({ recipients });
    },
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
      return item ? c.json(item) : notFound(c, params.id);
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
      if (!(await store.queue.message(params.id))) return notFound(c, params.id);
      await store.queue.retryNow(params.id);
      wake();
      return c.body(null, 202);
    },
  });
  routes.add({
    method: "post",
    path: "/api/v1/queue/{id}/hold",
    tag: "queue",
    summary: "Keep the message's pending recipients out of delivery until released",
    params: idParams,
    response: { status: 200, schema: Changed },
    handler: async (c, { params }) => {
      if (!(await store.queue.message(params.id))) return notFound(c, params.id);
      return c.json({ recipients: await store.queue.hold(params.id) });
    },
  });
  routes.add({
    method: "post",
    path: "/api/v1/queue/{id}/release",
    tag: "queue",
    summary: "Give a held message back to delivery, due now",
    params: idParams,
    response: { status: 200, schema: Changed },
    handler: async (c, { params }) => {
      if (!(await store.queue.message(params.id))) return notFound(c, params.id);
      const recipients = await store.queue.releaseHeld(params.id);
      wake();
      return c.json({ recipients });
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
      if (!(await store.queue.message(params.id))) return notFound(c, params.id);
      await store.queue.drop(params.id);
      return c.body(null, 204);
    },
  });
}
