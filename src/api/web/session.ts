/**
 * Webmail and admin console sessions over HTTP (issue 22): the cookie (HttpOnly, SameSite=Strict, Secure when the
 * page came over HTTPS), the CSRF token every state-changing request must echo in a header, and the idle timeout. The
 * rows live in the store (src/store/web-sessions.ts); JMAP accepts a webmail session through `webSessionAccount`, the
 * REST admin API and the console's routes an admin console session (or the admin token) through `adminAuthorized`.
 * The two are apart: each has its own cookie, and a webmail session gives no admin rights.
 */
import { timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { Store } from "../../store/store.ts";
import type { WebSession } from "../../store/web-sessions.ts";

export const SESSION_COOKIE = "postern_session";
/** The admin console's session cookie: an account marked admin, signed in at /admin. */
export const ADMIN_COOKIE = "postern_admin";
/** The header that carries the CSRF token; a cross-site form or image cannot set it. */
export const CSRF_HEADER = "x-postern-csrf";
/** A session unused for this long is over (OWASP's guidance for low-risk applications: 15–30 minutes). */
export const IDLE_MS = 30 * 60_000;

/** RFC 9110 §9.2.1: the methods that change nothing need no CSRF token. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Behind a TLS-terminating proxy the request URL is http: the proxy's X-Forwarded-Proto says otherwise. */
function overTls(c: Context): boolean {
  return new URL(c.req.url).protocol === "https:" || c.req.header("x-forwarded-proto") === "https";
}

export function setSessionCookie(c: Context, token: string, name = SESSION_COOKIE): void {
  // No Max-Age: the cookie ends with the browser session; the server ends it after IDLE_MS without use.
  setCookie(c, name, token, { path: "/", httpOnly: true, sameSite: "Strict", secure: overTls(c) });
}

export function clearSessionCookie(c: Context, name = SESSION_COOKIE): void {
  deleteCookie(c, name, { path: "/", httpOnly: true, sameSite: "Strict", secure: overTls(c) });
}

export function sessionToken(c: Context, name = SESSION_COOKIE): string | undefined {
  return getCookie(c, name);
}

/** A secret compared in constant time (the CSRF token, the admin token). */
export function sameSecret(given: string | undefined, expected: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * A request from another origin: the browser names it in `Origin` (Fetch standard), which a page cannot forge. Absent
 * on same-origin GETs and from non-browser clients, which carry no cookie by accident.
 */
export function crossOrigin(c: Context): boolean {
  const origin = c.req.header("origin");
  if (!origin || origin === "null") return origin === "null";
  const host = c.req.header("host") ?? new URL(c.req.url).host;
  try {
    return new URL(origin).host !== host;
  } catch {
    return true;
  }
}

/**
 * The live session of the request's cookie `name` (the webmail's, or the admin console's with `admin`): none for a
 * state-changing request without the session's CSRF token or from another origin.
 */
export async function checkedSession(
  c: Context,
  store: Store,
  name: string,
  admin: boolean,
): Promise<WebSession | null> {
  const token = sessionToken(c, name);
  const session = token ? await store.webSessions.use(token, IDLE_MS) : null;
  if (!session || session.admin !== admin) return null;
  if (!SAFE_METHODS.has(c.req.method) && (crossOrigin(c) || !sameSecret(c.req.header(CSRF_HEADER), session.csrf))) {
    return null;
  }
  return session;
}

/** The account of the request's webmail session, for JMAP and the webmail's own routes (see `checkedSession`). */
export async function webSessionAccount(c: Context, store: Store): Promise<{ id: number; address: string } | null> {
  const session = await checkedSession(c, store, SESSION_COOKIE, false);
  return session && { id: session.accountId, address: session.address };
}

/**
 * May the request use the REST admin API and the console's routes: it carries the admin token
 * (`Authorization: Bearer`), or it comes with the admin console session of an account that is still admin.
 */
export async function adminAuthorized(c: Context, store: Store, adminToken: string | undefined): Promise<boolean> {
  const bearer = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
  if (bearer !== undefined) return !!adminToken && sameSecret(bearer, adminToken);
  return !!(await checkedSession(c, store, ADMIN_COOKIE, true));
}

/** The answer to a request `adminAuthorized` refused. */
export const ADMIN_REQUIRED = "The admin token (Authorization: Bearer …) or an admin's sign-in to /admin is required";
