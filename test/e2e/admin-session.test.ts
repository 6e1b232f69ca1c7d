/**
 * The admin console's sign-in with an account's address and password (issue 22), over plain HTTP on every runtime the
 * suite starts the server with: only an account marked admin gets in; its session cookie opens the REST admin API and
 * the console's routes with the CSRF token on every change, and nothing of the webmail (nor the webmail's cookie the
 * admin API); failures count in the login throttle; taking the flag away ends it at once. The browser flow is in
 * test/web/browser-admin.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let base: string;
const ADMIN_TOKEN = "admin-token-for-the-admin-session-test";
const byToken = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
    config: {
      api: { trustedProxies: ["127.0.0.1"], adminToken: ADMIN_TOKEN },
      auth: { ban: { failures: 3, duration: 60 } },
    },
  });
  base = `http://127.0.0.1:${mail.server.ports.http}`;
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const signIn = (app: "admin" | "mail", username: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/${app}/session`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ username, password }),
  });
const setAdmin = (address: string, admin: boolean) =>
  fetch(`${base}/api/v1/accounts/${address}`, { method: "PATCH", headers: byToken, body: JSON.stringify({ admin }) });
const addDomain = (name: string, headers: Record<string, string>) =>
  fetch(`${base}/api/v1/domains`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ name }),
  });

describe(`admin console sign-in on ${runtime()}`, () => {
  test("an account not marked admin is refused; a wrong password is refused", async () => {
    const refused = await signIn("admin", "jo@example.test", "jo-password");
    expect(refused.status).toBe(403);
    expect((await refused.json()).detail).toBe("jo@example.test is not an administrator");
    expect(refused.headers.get("set-cookie")).toBeNull();
    expect((await signIn("admin", "kim@example.test", "wrong")).status).toBe(401);
  });

  test("an admin's session opens the admin API with the CSRF token, and not the webmail; sign-out ends it", async () => {
    expect((await setAdmin("kim@example.test", true)).status).toBe(204);
    const accounts = await (await fetch(`${base}/api/v1/accounts`, { headers: byToken })).json();
    expect(accounts).toContainEqual(expect.objectContaining({ address: "kim@example.test", admin: true }));

    const response = await signIn("admin", "kim@example.test", "kim-password");
    expect(response.status).toBe(200);
    const cookie = response.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^postern_admin=[\w-]{43};.*HttpOnly/);
    expect(cookie).toContain("SameSite=Strict");
    const { csrf } = await response.json() as { csrf: string };
    const jar = { cookie: cookie.split(";")[0]! };
    expect(await (await fetch(`${base}/admin/session`, { headers: jar })).json()).toEqual({
      address: "kim@example.test",
      csrf,
    });

    expect((await fetch(`${base}/api/v1/domains`, { headers: jar })).status).toBe(200);
    expect((await fetch(`${base}/admin/overview`, { headers: jar })).status).toBe(200);
    expect((await addDomain("one.test", jar)).status).toBe(401);
    expect((await addDomain("one.test", { ...jar, "x-postern-csrf": "wrong" })).status).toBe(401);
    const evil = { ...jar, "x-postern-csrf": csrf, origin: "http://evil.test" };
    expect((await addDomain("one.test", evil)).status).toBe(401);
    expect((await addDomain("one.test", { ...jar, "x-postern-csrf": csrf })).status).toBe(201);
    // A wrong bearer token is refused even beside a good cookie.
    expect((await fetch(`${base}/api/v1/domains`, { headers: { ...jar, authorization: "Bearer no" } })).status)
      .toBe(401);

    // The console's cookie is not a webmail session, and the webmail's cookie gives no admin rights.
    expect((await fetch(`${base}/mail/session`, { headers: jar })).status).toBe(401);
    expect((await fetch(`${base}/jmap/session`, { headers: jar })).status).toBe(401);
    const webmail = await signIn("mail", "kim@example.test", "kim-password");
    const mailJar = { cookie: webmail.headers.get("set-cookie")!.split(";")[0]! };
    const mailCsrf = (await webmail.json() as { csrf: string }).csrf;
    expect((await fetch(`${base}/api/v1/domains`, { headers: mailJar })).status).toBe(401);
    expect((await addDomain("two.test", { ...mailJar, "x-postern-csrf": mailCsrf })).status).toBe(401);
    expect((await fetch(`${base}/admin/session`, { headers: mailJar })).status).toBe(401);

    const signOut = (headers: Record<string, string>) => fetch(`${base}/admin/session`, { method: "DELETE", headers });
    expect((await signOut(jar)).status).toBe(403);
    const out = await signOut({ ...jar, "x-postern-csrf": csrf });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/postern_admin=;.*Max-Age=0/);
    expect((await fetch(`${base}/api/v1/domains`, { headers: jar })).status).toBe(401);
    // The webmail session is another one: it stays.
    expect((await fetch(`${base}/mail/session`, { headers: mailJar })).status).toBe(200);
  });

  test("taking the admin flag away ends the console session at once", async () => {
    const response = await signIn("admin", "kim@example.test", "kim-password");
    const jar = { cookie: response.headers.get("set-cookie")!.split(";")[0]! };
    expect((await fetch(`${base}/api/v1/domains`, { headers: jar })).status).toBe(200);
    expect((await setAdmin("kim@example.test", false)).status).toBe(204);
    expect((await fetch(`${base}/api/v1/domains`, { headers: jar })).status).toBe(401);
    expect((await signIn("admin", "kim@example.test", "kim-password")).status).toBe(403);
  });

  test("failed admin sign-ins count in the login throttle", async () => {
    const from = { "x-forwarded-for": "192.0.2.9" };
    for (let i = 0; i < 3; i++) {
      expect((await signIn("admin", "kim@example.test", "wrong", from)).status).toBe(401);
    }
    expect((await signIn("admin", "kim@example.test", "kim-password", from)).status).toBe(429);
    expect((await signIn("mail", "kim@example.test", "kim-password", from)).status).toBe(429);
  });
});
