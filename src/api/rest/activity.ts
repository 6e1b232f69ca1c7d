/**
 * REST view of the recent activity (issue 22): the last accepted messages, refusals and delivery
 * attempts as the log recorded them (src/util/activity.ts), this process's and its workers'.
 */
import * as v from "valibot";
import { ACTIVITY_KINDS, ACTIVITY_LIMIT, recentActivity } from "../../util/activity.ts";
import { peerSnapshots } from "../../util/counters.ts";
import type { RouteRegistry } from "./registry.ts";

const Event = v.object({
  time: v.string(),
  kind: v.picklist(ACTIVITY_KINDS),
  queueId: v.nullable(v.number()),
  from: v.nullable(v.string()),
  to: v.nullable(v.string()),
  result: v.string(),
  pid: v.number(),
});
const Query = v.object({
  kind: v.optional(v.picklist(ACTIVITY_KINDS, `must be one of ${ACTIVITY_KINDS.join(", ")}`)),
  limit: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, "must be a whole number"),
      v.transform(Number),
      v.minValue(1, "must be at least 1"),
      v.maxValue(ACTIVITY_LIMIT, `must be at most ${ACTIVITY_LIMIT}`),
    ),
  ),
});

export function activityRoutes(routes: RouteRegistry): void {
  routes.add({
    method: "get",
    path: "/api/v1/activity",
    tag: "activity",
    summary: "Recent messages accepted, refusals and delivery attempts, newest first",
    query: Query,
    response: { status: 200, schema: v.array(Event) },
    handler: (c, { query }) => {
      const peers = peerSnapshots().parts.map((part) => part.activity);
      return c.json(recentActivity({ kind: query.kind, limit: query.limit ?? 100, peers }));
    },
  });
}
