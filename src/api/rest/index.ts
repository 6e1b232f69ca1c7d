/**
 * The REST admin API: the admin token (or an admin's console session) on `/api/v1`, the route table, and the OpenAPI document.
 */
import type { Hono } from "hono";
import type { AllowPrivateTargets } from "../../net/outbound-url.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import { ADMIN_REQUIRED, adminAuthorized } from "../web/session.ts";
import { activityRoutes } from "./activity.ts";
import { adminRoutes } from "./admin.ts";
import { aliasRoutes, ownerAuth } from "./aliases.ts";
import { mailRoutes } from "./mail.ts";
import { queueRoutes } from "./queue.ts";
import { RouteRegistry } from "./registry.ts";
import { sieveRoutes } from "./sieve.ts";

export interface RestOptions {
  store: Store;
  adminToken?: string;
  /** webhooks.allowHttp, for alias targets added through REST. */
  allowHttpWebhooks?: boolean;
  /** outbound.allowPrivateTargets, for alias webhook targets at private IP addresses. */
  allowPrivateTargets?: AllowPrivateTargets;
  version: string;
  maxBodyBytes?: number;
  /** Runs the outbound queue now (after a retry request). */
  wakeQueue?: () => void;
}

export function mountRest(app: Hono, options: RestOptions): RouteRegistry {
  const routes = new RouteRegistry();
  adminRoutes(routes, options.store);
  activityRoutes(routes);
  aliasRoutes(routes, options.store, {
    allowHttp: options.allowHttpWebhooks,
    allowPrivateTargets: options.allowPrivateTargets,
  });
  mailRoutes(routes, options.store);
  queueRoutes(routes, options.store, options.wakeQueue ?? (() => {}));
  sieveRoutes(routes, options.store);

  // An account's own aliases: its API token, not the admin's (issue 19).
  app.use("/api/v1/me/*", ownerAuth(options.store));
  // The admin token, or the admin console's session of an account marked admin (issue 22).
  app.use("/api/v1/*", async (c, next) => {
    if (c.req.path.startsWith("/api/v1/me/")) return next();
    if (!(await adminAuthorized(c, options.store, options.adminToken))) {
      return problem(c, 401, "unauthorized", ADMIN_REQUIRED);
    }
    await next();
  });
  routes.mount(app, options.maxBodyBytes ?? 1_000_000);
  const document = routes.openApi({ title: "Postern administration API", version: options.version });
  app.get("/api/openapi.json", (c) => c.json(document));

  // 405 for a known path with another method (RFC 9110 §15.5.6).
  app.all("/api/v1/*", (c) => {
    const path = c.req.path;
    const allowed = routes.routes
      .filter((r) => new RegExp(`^${r.path.replace(/\{\w+\}/g, "[^/]+")}$`).test(path))
      .map((r) => r.method.toUpperCase());
    if (allowed.length === 0) return problem(c, 404, "not-found", `No route for ${c.req.method} ${path}`);
    c.header("allow", allowed.join(", "));
    return problem(
      c,
      405,
      "method-not-allowed",
      `${c.req.method} is not allowed on ${path}; use ${allowed.join(", ")}`,
    );
  });
  return routes;
}
