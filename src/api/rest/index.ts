/**
 * The REST admin API: bearer-token auth on `/api/v1`, the route table, and the OpenAPI document.
 */
import { timingSafeEqual } from "node:crypto";
import type { Hono } from "hono";
import type { AllowPrivateTargets } from "../../net/outbound-url.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
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

function tokenMatches(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function mountRest(app: Hono, options: RestOptions): RouteRegistry {
  const routes = new RouteRegistry();
  adminRoutes(routes, options.store);
  aliasRoutes(routes, options.store, {
    allowHttp: options.allowHttpWebhooks,
    allowPrivateTargets: options.allowPrivateTargets,
  });
  mailRoutes(routes, options.store);
  queueRoutes(routes, options.store, options.wakeQueue ?? (() => {}));
  sieveRoutes(routes, options.store);

  // An account's own aliases: its API token, not the admin's (issue 19).
  app.use("/api/v1/me/*", ownerAuth(options.store));
  app.use("/api/v1/*", async (c, next) => {
    if (c.req.path.startsWith("/api/v1/me/")) return next();
    const header = c.req.header("authorization") ?? "";
    const token = /^Bearer (.+)$/i.exec(header)?.[1];
    if (!options.adminToken) return problem(c, 401, "unauthorized", "The admin API is off: set api.adminToken");
    if (!token || !tokenMatches(token, options.adminToken)) {
      return problem(c, 401, "unauthorized", "A valid admin token is required (Authorization: Bearer …)");
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
