/**
 * The two web applications (issue 22): the webmail at /mail and the admin console at /admin, static pages and
 * scripts built by scripts/build-web.ts from src/web/ into assets.generated.ts (so the source tree, Deno and the
 * compiled binary serve the same bytes, with nothing fetched at run time), and the webmail's sign-in.
 *
 * The webmail reads and writes mail through JMAP with its session cookie (src/api/web/session.ts); the admin console
 * calls the REST admin API with the admin token, which the page keeps in sessionStorage (never in a cookie).
 */
import type { BlockList } from "node:net";
import type { Context, Hono } from "hono";
import type { AuthThrottle } from "../../auth/throttle.ts";
import { checkPassword } from "../../backends/password.ts";
import { type DnsRecord, formatRecord } from "../../dns-records/records.ts";
import type { Store } from "../../store/store.ts";
import { clientAddress, readBody } from "../client.ts";
import { problem } from "../problem.ts";
import { mountAccountSettings } from "./account.ts";
import { type AdminConsoleOptions, mountAdminConsole } from "./admin.ts";
import { WEB_ASSETS } from "./assets.generated.ts";
import { page } from "./page.ts";
import {
  clearSessionCookie,
  crossOrigin,
  IDLE_MS,
  sameSecret,
  sessionToken,
  setSessionCookie,
  webSessionAccount,
} from "./session.ts";

export interface WebOptions {
  store: Store;
  throttle?: AuthThrottle;
  trustedProxies?: BlockList | null;
  /** api.adminToken: the admin console's DNS view asks for it like the REST API does. */
  adminToken?: string;
  /** The records `postern dns <domain>` prints (src/cli/dns.ts). */
  dnsRecords?: (domain: string) => DnsRecord[];
  /** DKIM keys and the DNS check for the admin console (src/api/web/admin.ts). */
  adminConsole?: AdminConsoleOptions;
}

type AssetName = keyof typeof WEB_ASSETS;

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

  // The page asks who is signed in, and learns the CSRF token it must send with every change.
  app.get("/mail/session", async (c) => {
    const token = sessionToken(c);
    const session = token ? await store.webSessions.use(token, IDLE_MS) : null;
    if (!session) return problem(c, 401, "unauthorized", "Not signed in");
    return c.json({ address: session.address, csrf: session.csrf }, 200, { "cache-control": "no-store" });
  });

  app.post("/mail/session", async (c) => {
    // A JSON body cannot be sent cross-site without a CORS preflight, which is never granted; Origin says the rest.
    if (crossOrigin(c) || !/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
      return problem(c, 403, "forbidden", "Sign in from the webmail page");
    }
    const bytes = await readBody(c, 10_000);
    if (bytes === "too-large") return problem(c, 413, "too-large", "A sign-in is a short JSON body");
    let username: unknown, password: unknown;
    try {
      ({ username, password } = JSON.parse(new TextDecoder().decode(bytes)));
    } catch {
      return problem(c, 400, "bad-request", "The body must be JSON: {username, password}");
    }
    if (typeof username !== "string" || typeof password !== "string") {
      return problem(c, 400, "bad-request", "The body must be JSON: {username, password}");
    }
    const account = options.throttle
      ? await checkPassword(
        store,
        options.throttle,
        username,
        password,
        clientAddress(c, options.trustedProxies ?? null),
      )
      : await store.accounts.verify(username, password);
    if (account === "banned") return problem(c, 429, "too-many-requests", "Too many failed sign-ins; try later");
    if (!account) return problem(c, 401, "unauthorized", "Wrong address or password");
    const { token, csrf } = await store.webSessions.create(account.id);
    void store.webSessions.expire(IDLE_MS).catch(() => {});
    setSessionCookie(c, token);
    return c.json({ address: account.address, csrf }, 200, { "cache-control": "no-store" });
  });

  // The admin console's view of `postern dns <domain>`: each record with what it is for and its zone-file line.
  app.get("/admin/dns/:domain", async (c) => {
    const token = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    if (!options.adminToken || !sameSecret(token, options.adminToken)) {
      return problem(c, 401, "unauthorized", "A valid admin token is required (Authorization: Bearer …)");
    }
    const domain = await store.domains.get(c.req.param("domain"));
    if (!domain) return problem(c, 404, "not-found", `No domain ${c.req.param("domain")}`);
    if (!options.dnsRecords) return problem(c, 404, "not-found", "DNS records are not available here");
    const records = options.dnsRecords(domain.name).map((r) => ({ ...r, line: formatRecord(r) }));
    return c.json({ domain: domain.name, records }, 200, { "cache-control": "no-store" });
  });

  mountAccountSettings(app, options);
  mountAdminConsole(app, store, options.adminToken, options.adminConsole);

  // Signing out needs the CSRF token too: another site must not be able to end a session.
  app.delete("/mail/session", async (c) => {
    const token = sessionToken(c);
    if (!token || !(await webSessionAccount(c, store))) return problem(c, 403, "forbidden", "No session to end");
    await store.webSessions.revoke(token);
    clearSessionCookie(c);
    return c.body(null, 204);
  });
}
