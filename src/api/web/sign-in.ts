/**
 * Signing in to the webmail (/mail/session) and to the admin console (/admin/session) with an account's address and
 * password (issue 22): the same login throttle as every protocol, a session cookie of each application's own, the
 * CSRF token the page learns here and echoes with every change, and signing out. Only an account marked admin
 * (`postern user admin`) may sign in to the console.
 */
import type { BlockList } from "node:net";
import type { Context, Hono } from "hono";
import type { AuthThrottle } from "../../auth/throttle.ts";
import { checkPassword } from "../../backends/password.ts";
import type { Store } from "../../store/store.ts";
import { clientAddress, readBody } from "../client.ts";
import { problem } from "../problem.ts";
import {
  ADMIN_COOKIE,
  checkedSession,
  clearSessionCookie,
  crossOrigin,
  IDLE_MS,
  SESSION_COOKIE,
  sessionToken,
  setSessionCookie,
} from "./session.ts";

export interface SignInOptions {
  store: Store;
  throttle?: AuthThrottle;
  trustedProxies?: BlockList | null;
}

/** The credentials of a sign-in's JSON body, or the problem to answer. */
async function credentials(c: Context): Promise<{ username: string; password: string } | Response> {
  // A JSON body cannot be sent cross-site without a CORS preflight, which is never granted; Origin says the rest.
  if (crossOrigin(c) || !/^application\/json\b/i.test(c.req.header("content-type") ?? "")) {
    return problem(c, 403, "forbidden", "Sign in from the application's page");
  }
  const bytes = await readBody(c, 10_000);
  if (bytes === "too-large") return problem(c, 413, "too-large", "A sign-in is a short JSON body");
  try {
    const { username, password } = JSON.parse(new TextDecoder().decode(bytes));
    if (typeof username === "string" && typeof password === "string") return { username, password };
  } catch {
    // Answered below.
  }
  return problem(c, 400, "bad-request", "The body must be JSON: {username, password}");
}

/** GET, POST and DELETE `<base>/session` for the webmail (`/mail`) or, with `admin`, the admin console (`/admin`). */
export function mountSignIn(app: Hono, options: SignInOptions, base: "/mail" | "/admin"): void {
  const { store } = options;
  const admin = base === "/admin";
  const cookie = admin ? ADMIN_COOKIE : SESSION_COOKIE;
  const path = `${base}/session`;

  // The page asks who is signed in, and learns the CSRF token it must send with every change.
  app.get(path, async (c) => {
    const session = await checkedSession(c, store, cookie, admin);
    if (!session) return problem(c, 401, "unauthorized", "Not signed in");
    return c.json({ address: session.address, csrf: session.csrf }, 200, { "cache-control": "no-store" });
  });

  app.post(path, async (c) => {
    const given = await credentials(c);
    if (given instanceof Response) return given;
    const account = options.throttle
      ? await checkPassword(
        store,
        options.throttle,
        given.username,
        given.password,
        clientAddress(c, options.trustedProxies ?? null),
      )
      : await store.accounts.verify(given.username, given.password);
    if (account === "banned") return problem(c, 429, "too-many-requests", "Too many failed sign-ins; try later");
    if (!account) return problem(c, 401, "unauthorized", "Wrong address or password");
    if (admin && !(await store.accounts.get(account.address))?.admin) {
      return problem(c, 403, "forbidden", `${account.address} is not an administrator`);
    }
    const { token, csrf } = await store.webSessions.create(account.id, admin);
    void store.webSessions.expire(IDLE_MS).catch(() => {});
    setSessionCookie(c, token, cookie);
    return c.json({ address: account.address, csrf }, 200, { "cache-control": "no-store" });
  });

  // Signing out needs the CSRF token too: another site must not be able to end a session.
  app.delete(path, async (c) => {
    const token = sessionToken(c, cookie);
    if (!token || !(await checkedSession(c, store, cookie, admin))) {
      return problem(c, 403, "forbidden", "No session to end");
    }
    await store.webSessions.revoke(token);
    clearSessionCookie(c, cookie);
    return c.body(null, 204);
  });
}
