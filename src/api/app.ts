/**
 * The HTTP application: health, metrics, and the REST admin API (src/api/rest/); JMAP joins it
 * in its own folder.
 */
import { Hono } from "hono";
import type { Store } from "../store/store.ts";
import { problem } from "./problem.ts";
import { sameSecret } from "./web/session.ts";
import { countJmapRequest, type MetricSource, renderMetrics } from "./metrics.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import type { Deliverer } from "../deliver/deliverer.ts";
import { mountJmap } from "./jmap/index.ts";
import { mountRest } from "./rest/index.ts";
import type { AdminConsoleOptions } from "./web/admin.ts";
import { mountWeb } from "./web/index.ts";
import type { DnsRecord } from "../dns-records/records.ts";
import { addressList } from "../util/ip-list.ts";
import type { OutboundPolicy } from "../net/outbound-url.ts";
import { mountWellKnown, type WellKnownOptions } from "./well-known/index.ts";

export interface AppOptions {
  version: string;
  startedAt: number;
  metrics: MetricSource;
  /** With a store, the REST admin API is mounted under /api/v1. */
  store?: Store;
  adminToken?: string;
  /** The token `/metrics` asks for as `Authorization: Bearer` (metrics.requireToken); open without one. */
  metricsToken?: string;
  /** webhooks.allowHttp, for alias targets added through REST. */
  allowHttpWebhooks?: boolean;
  /** outbound.allowPrivateTargets and the resolver: JMAP push URLs and alias webhook targets. */
  outbound?: OutboundPolicy;
  wakeQueue?: () => void;
  throttle?: AuthThrottle;
  deliverer?: Deliverer;
  /** api.trustedProxies */
  trustedProxies?: readonly string[];
  /** `<dataDir>/spool`, for uploads while they arrive. */
  spoolDir?: string;
  /** The DNS records a domain should publish (`postern dns`), for the admin console. */
  dnsRecords?: (domain: string) => DnsRecord[];
  /** DKIM keys and `postern dns check` for the admin console. */
  adminConsole?: AdminConsoleOptions;
  /** MTA-STS policy, client autoconfiguration and ACME challenges (src/api/well-known/). */
  wellKnown?: WellKnownOptions;
}

export function createApp(options: AppOptions): Hono {
  const app = new Hono();
  let inFlight = 0;
  app.use(async (_, next) => {
    inFlight++;
    try {
      await next();
    } finally {
      inFlight--;
    }
  });

  app.get(
    "/healthz",
    (c) =>
      c.json({ status: "ok", version: options.version, uptime: Math.round((Date.now() - options.startedAt) / 1000) }),
  );

  app.get("/metrics", async (c) => {
    if (options.metricsToken !== undefined) {
      const token = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
      if (!sameSecret(token, options.metricsToken)) {
        return problem(c, 401, "unauthorized", "A valid admin token is required (Authorization: Bearer …)");
      }
    }
    const bannedAddresses = await options.throttle?.activeBans();
    const queue = await options.store?.queue.stats();
    const storage = await options.store?.storageTotals();
    const text = renderMetrics(options.metrics(), {
      inFlight,
      version: options.version,
      startedAt: options.startedAt,
      bannedAddresses,
      queue,
      storage,
    });
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  if (options.wellKnown) mountWellKnown(app, options.wellKnown);

  if (options.store) {
    mountRest(app, {
      store: options.store,
      adminToken: options.adminToken,
      allowHttpWebhooks: options.allowHttpWebhooks,
      allowPrivateTargets: options.outbound?.allowPrivateTargets,
      version: options.version,
      wakeQueue: options.wakeQueue,
    });
    app.use("/jmap/*", async (c, next) => {
      await next();
      countJmapRequest(c.req.path, c.res.status);
    });
    mountJmap(app, {
      store: options.store,
      throttle: options.throttle,
      deliverer: options.deliverer,
      trustedProxies: options.trustedProxies?.length ? addressList(options.trustedProxies) : null,
      spoolDir: options.spoolDir,
      outbound: options.outbound,
    });
    // The webmail at /mail and the admin console at /admin (issue 22).
    const trustedProxies = options.trustedProxies?.length ? addressList(options.trustedProxies) : null;
    mountWeb(app, {
      store: options.store,
      throttle: options.throttle,
      trustedProxies,
      adminToken: options.adminToken,
      dnsRecords: options.dnsRecords,
      adminConsole: options.adminConsole,
    });
  }

  app.notFound((c) =>
    c.json(
      { type: "about:blank", title: "Not Found", status: 404, detail: `No route for ${c.req.method} ${c.req.path}` },
      404,
      {
        "content-type": "application/problem+json",
      },
    )
  );
  app.onError((err, c) => {
    console.error("HTTP handler failed:", err);
    return c.json({ type: "about:blank", title: "Internal Server Error", status: 500 }, 500, {
      "content-type": "application/problem+json",
    });
  });
  return app;
}
