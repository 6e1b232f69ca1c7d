/**
 * The HTTP application: health and metrics now; REST administration and JMAP join it in their
 * own files under src/api/.
 */
import { Hono } from "hono";
import { renderMetrics, type MetricSource } from "./metrics.ts";

export interface AppOptions {
  version: string;
  startedAt: number;
  metrics: MetricSource;
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

  app.get("/healthz", (c) =>
    c.json({ status: "ok", version: options.version, uptime: Math.round((Date.now() - options.startedAt) / 1000) }),
  );

  app.get("/metrics", (c) =>
    c.text(renderMetrics(options.metrics(), { inFlight, version: options.version, startedAt: options.startedAt }), 200, {
      "content-type": "text/plain; version=0.0.4; charset=utf-8",
    }),
  );

  app.notFound((c) =>
    c.json({ type: "about:blank", title: "Not Found", status: 404, detail: `No route for ${c.req.method} ${c.req.path}` }, 404, {
      "content-type": "application/problem+json",
    }),
  );
  app.onError((err, c) => {
    console.error("HTTP handler failed:", err);
    return c.json({ type: "about:blank", title: "Internal Server Error", status: 500 }, 500, {
      "content-type": "application/problem+json",
    });
  });
  return app;
}
