/**
 * The two web applications (issue 22): the webmail at /mail and the admin console at /admin, static pages and
 * scripts built by scripts/build-web.ts from src/web/ into assets.generated.ts (so the source tree, Deno and the
 * compiled binary serve the same bytes, with nothing fetched at run time), and their sign-in (./sign-in.ts).
 *
 * The webmail reads and writes mail through JMAP with its session cookie (src/api/web/session.ts); the admin console
 * calls the REST admin API either with the admin token, which the page keeps in sessionStorage (never in a cookie), or
 * with the session cookie of an account marked admin that signed in to /admin.
 */
import type { BlockList } from "node:net";
import type { Context, Hono } from "hono";
import type { AuthThrottle } from "../../auth/throttle.ts";
import { type DnsRecord, formatRecord } from "../../dns-records/records.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import { mountAccountSettings } from "./account.ts";
import { type AdminConsoleOptions, mountAdminConsole } from "./admin.ts";
import { WEB_ASSETS } from "./assets.generated.ts";
import { page } from "./page.ts";
import { ADMIN_REQUIRED, adminAuthorized } from "./session.ts";
import { mountSignIn } from "./sign-in.ts";

export interface WebOptions {
  store: Store;
  throttle?: AuthThrottle;
  trustedProxies?: BlockList | null;
  /** api.adminToken: opens the admin console's routes like the REST API (so does an admin's sign-in). */
  adminToken?: string;
  /** The records `postern dns <domain>` prints (src/cli/dns.ts). */
  dnsRecords?: (domain: string) => DnsRecord[];
  /** DKIM keys and the DNS check for the admin console (src/api/web/admin.ts). */
  adminConsole?: AdminConsoleOptions;
}

type AssetName = keyof typeof WEB_ASSETS;

/** The console's page, its script and style, and its sign-in: open to anyone. */
const OPEN_ADMIN_PATHS = new Set(["/admin/", "/admin/app.js", "/admin/app.css", "/admin/session"]);

const TYPES: Record<string, string> = {
  js: "text/javascript; charset=utf-8",
  css: "text/css; charset=utf-8",
};

function asset(c: Context, name: AssetName) {
  const type = TYPES[name.slice(name.lastIndexOf(".") + 1)]!;
  return c.body(WEB_ASSETS[name], 200, {
    "content-type": type,
    "x-content-type-options": "nosniff",
    "cache-control": "no-cache",
  });
}

export function mountWeb(app: Hono, options: WebOptions): void {
  const { store } = options;

  for (const [base, title] of [["/mail", "Postern Mail"], ["/admin", "Postern Admin"]] as const) {
    const html = page(title, base, base === "/mail");
    app.get(base, (c) => c.redirect(`${base}/`, 301));
    app.get(`${base}/`, (c) => c.body(html.body, 200, html.headers));
    app.get(`${base}/app.js`, (c) => asset(c, base === "/mail" ? "mail.js" : "admin.js"));
    app.get(`${base}/app.css`, (c) => asset(c, "app.css"));
  }

  mountSignIn(app, options, "/mail");
  mountSignIn(app, options, "/admin");

  // The console's own routes: the admin token, or the session of an account marked admin.
  app.use("/admin/*", async (c, next) => {
    if (OPEN_ADMIN_PATHS.has(c.req.path)) return next();
    if (!(await adminAuthorized(c, store, options.adminToken))) return problem(c, 401, "unauthorized", ADMIN_REQUIRED);
    return next();
  });

  // The admin console's view of `postern dns <domain>`: each record with what it is for and its zone-file line.
  app.get("/admin/dns/:domain", async (c) => {
    const domain = await store.domains.get(c.req.param("domain"));
    if (!domain) return problem(c, 404, "not-found", `No domain ${c.req.param("domain")}`);
    if (!options.dnsRecords) return problem(c, 404, "not-found", "DNS records are not available here");
    const records = options.dnsRecords(domain.name).map((r) => ({ ...r, line: formatRecord(r) }));
    return c.json({ domain: domain.name, records }, 200, { "cache-control": "no-store" });
  });

  mountAccountSettings(app, options);
  mountAdminConsole(app, store, options.adminConsole);
}
