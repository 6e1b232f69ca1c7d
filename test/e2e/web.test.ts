/**
 * The web applications over plain HTTP (issue 22), on every runtime the suite starts the server with: the pages and
 * scripts are served from the build (with their Content-Security-Policy), and the webmail session works end to end:
 * the cookie's attributes, JMAP with the cookie only with the CSRF token, another origin refused, sign-out revokes
 * the session on the server, and failed sign-ins go through the login throttle. The browser flows are in
 * test/web/browser-*.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let base: string;
const ADMIN_TOKEN = "admin-token-for-the-web-test";

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http"],
    users: { "jo@example.test": "jo-password" },
    // Requests that name a client in X-Forwarded-For count as that client, so the ban test bans 192.0.2.7 only.
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

const signIn = (username: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${base}/mail/session`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ username, password }),
  });

async function session() {
  const response = await signIn("jo@example.test", "jo-password");
  expect(response.status).toBe(200);
  const cookie = response.headers.get("set-cookie")!;
  const { csrf } = await response.json() as { csrf: string };
  return { cookie, csrf, jar: cookie.split(";")[0]! };
}

const jmapEcho = (headers: Record<string, string>) =>
  fetch(`${base}/jmap/api`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ using: ["urn:ietf:params:jmap:core"], methodCalls: [["Core/echo", { hi: 1 }, "0"]] }),
  });

describe(`web applications on ${runtime()}`, () => {
  test("pages and scripts are served from the build, with a strict Content-Security-Policy", async () => {
    for (const app of ["mail", "admin"]) {
      const page = await fetch(`${base}/${app}/`);
      expect(page.status).toBe(200);
      expect(page.headers.get("content-type")).toStartWith("text/html");
      const csp = page.headers.get("content-security-policy")!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(await page.text()).toContain(`<script type="module" src="/${app}/app.js">`);
      const script = await fetch(`${base}/${app}/app.js`);
      expect(script.headers.get("content-type")).toStartWith("text/javascript");
      expect((await script.text()).length).toBeGreaterThan(10_000);
      expect((await fetch(`${base}/${app}/app.css`)).status).toBe(200);
      const bare = await fetch(`${base}/${app}`, { redirect: "manual" });
      expect(bare.status).toBe(301);
    }
  });

  test("sign-in sets an HttpOnly SameSite=Strict cookie; JMAP takes it with the CSRF token only", async () => {
    const { cookie, csrf, jar } = await session();
    expect(cookie).toMatch(/^postern_session=[\w-]{43};/);
    expect(cookie).toContain("HttpOnly");
    expect(cookie).toContain("SameSite=Strict");
    expect(cookie).not.toContain("Secure"); // plain HTTP here
    const who = await fetch(`${base}/mail/session`, { headers: { cookie: jar } });
    expect(await who.json()).toEqual({ address: "jo@example.test", csrf });

    expect((await fetch(`${base}/jmap/session`, { headers: { cookie: jar } })).status).toBe(200);
    expect((await jmapEcho({ cookie: jar })).status).toBe(401);
    expect((await jmapEcho({ cookie: jar, "x-postern-csrf": "wrong" })).status).toBe(401);
    const ok = await jmapEcho({ cookie: jar, "x-postern-csrf": csrf });
    expect(ok.status).toBe(200);
    expect((await ok.json()).methodResponses).toEqual([["Core/echo", { hi: 1 }, "0"]]);
    // A page on another origin cannot use it even if it learnt the token.
    expect((await jmapEcho({ cookie: jar, "x-postern-csrf": csrf, origin: "http://evil.test" })).status).toBe(401);
  });

  test("sign-in needs JSON from this origin; a wrong password is refused", async () => {
    expect((await signIn("jo@example.test", "nope")).status).toBe(401);
    const form = await fetch(`${base}/mail/session`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "username=jo@example.test&password=jo-password",
    });
    expect(form.status).toBe(403);
    expect((await signIn("jo@example.test", "jo-password", { origin: "http://evil.test" })).status).toBe(403);
    const bad = await fetch(`${base}/mail/session`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{not json",
    });
    expect(bad.status).toBe(400);
  });

  test("sign-out needs the CSRF token and revokes the session on the server", async () => {
    const { csrf, jar } = await session();
    expect((await fetch(`${base}/mail/session`, { method: "DELETE", headers: { cookie: jar } })).status).toBe(403);
    const out = await fetch(`${base}/mail/session`, {
      method: "DELETE",
      headers: { cookie: jar, "x-postern-csrf": csrf },
    });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toMatch(/postern_session=;.*Max-Age=0/);
    // The old cookie, replayed, no longer works anywhere.
    expect((await fetch(`${base}/mail/session`, { headers: { cookie: jar } })).status).toBe(401);
    expect((await fetch(`${base}/jmap/session`, { headers: { cookie: jar } })).status).toBe(401);
  });

  test("failed sign-ins count in the login throttle: the address is banned, others still sign in", async () => {
    const from = { "x-forwarded-for": "192.0.2.7" };
    for (let i = 0; i < 3; i++) expect((await signIn("jo@example.test", "wrong", from)).status).toBe(401);
    const banned = await signIn("jo@example.test", "jo-password", from);
    expect(banned.status).toBe(429);
    expect((await signIn("jo@example.test", "jo-password", { "x-forwarded-for": "192.0.2.8" })).status).toBe(200);
  });

  test("the admin console's DNS records: the admin token only, a domain served here only", async () => {
    const url = `${base}/admin/dns/example.test`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: "Bearer wrong" } })).status).toBe(401);
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    expect((await fetch(`${base}/admin/dns/elsewhere.test`, { headers: auth })).status).toBe(404);
    const { domain, records } = await (await fetch(url, { headers: auth })).json() as {
      domain: string;
      records: Array<{ kind: string; name: string; line: string }>;
    };
    expect(domain).toBe("example.test");
    expect(records.find((r) => r.kind === "mx")?.line).toBe("example.test. 3600 IN MX 10 mx.postern.test.");
    expect(records.map((r) => r.kind)).toContain("dmarc");
  });

  test("the webmail's own settings routes: the session and its CSRF token, this account's tokens only", async () => {
    const { jar, csrf } = await session();
    const post = (path: string, body: unknown, headers: Record<string, string>) =>
      fetch(`${base}${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    const change = { current: "jo-password", password: "jo-new-password" };
    expect((await post("/mail/account/password", change, {})).status).toBe(401);
    expect((await post("/mail/account/password", change, { cookie: jar })).status).toBe(401);
    const withToken = { cookie: jar, "x-postern-csrf": csrf };
    expect((await post("/mail/account/password", { ...change, password: "short" }, withToken)).status).toBe(400);
    expect((await post("/mail/account/password", "{not json", withToken)).status).toBe(400);
    expect((await post("/mail/account/password", { ...change, current: "wrong" }, withToken)).status).toBe(403);

    expect((await post("/mail/account/tokens", { name: "cli" }, { cookie: jar })).status).toBe(401);
    const created = await post("/mail/account/tokens", { name: "cli" }, withToken);
    expect(created.status).toBe(201);
    const { id, token } = await created.json() as { id: number; token: string };
    const listed = await (await fetch(`${base}/mail/account/tokens`, { headers: { cookie: jar } })).json();
    expect(listed).toEqual([expect.objectContaining({ id, name: "cli" })]);
    const session2 = await fetch(`${base}/jmap/session`, { headers: { authorization: `Bearer ${token}` } });
    expect(session2.status).toBe(200);
    const revoke = (tokenId: number, headers: Record<string, string>) =>
      fetch(`${base}/mail/account/tokens/${tokenId}`, { method: "DELETE", headers });
    expect((await revoke(id, { cookie: jar })).status).toBe(401);
    expect((await revoke(id + 1000, withToken)).status).toBe(404);
    expect((await revoke(id, withToken)).status).toBe(204);
    expect((await revoke(id, withToken)).status).toBe(404);
  });

  test("the admin console's DKIM keys, DNS check and overview: the admin token only, a domain served here only", async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" };
    for (const path of ["/admin/overview", "/admin/dkim/example.test", "/admin/dns/example.test/check"]) {
      expect((await fetch(`${base}${path}`)).status).toBe(401);
    }
    expect((await fetch(`${base}/admin/dkim/elsewhere.test`, { headers: auth })).status).toBe(404);
    expect((await fetch(`${base}/admin/dns/elsewhere.test/check`, { headers: auth })).status).toBe(404);
    const generate = (body: unknown) =>
      fetch(`${base}/admin/dkim/example.test`, { method: "POST", headers: auth, body: JSON.stringify(body) });
    expect((await generate({ selector: "no good" })).status).toBe(400);
    expect((await generate({ algorithm: "dsa" })).status).toBe(400);
    const first = await generate({ selector: "s1", algorithm: "ed25519" });
    expect(first.status).toBe(201);
    expect(await first.json()).toMatchObject({ selector: "s1", name: "s1._domainkey.example.test", active: true });
    expect((await generate({ selector: "s1" })).status).toBe(409);
    const { keys } = await (await fetch(`${base}/admin/dkim/example.test`, { headers: auth })).json() as {
      keys: Array<{ selector: string; active: boolean; line: string }>;
    };
    expect(keys).toEqual([expect.objectContaining({ selector: "s1", active: true })]);
    expect(keys[0]!.line).toStartWith('s1._domainkey.example.test. 3600 IN TXT "v=DKIM1; k=ed25519; p=');
    const activate = await fetch(`${base}/admin/dkim/example.test/nope/activate`, { method: "POST", headers: auth });
    expect(activate.status).toBe(404);

    const check = await (await fetch(`${base}/admin/dns/example.test/check`, { headers: auth })).json() as {
      results: Array<{ name: string; type: string; status: string }>;
    };
    expect(check.results.find((r) => r.type === "MX")?.status).toBe("missing");
    const overview = await (await fetch(`${base}/admin/overview`, { headers: auth })).json() as {
      receivedPerHour: unknown[];
      queue: { messages: number; ages: unknown[] };
    };
    expect(overview.receivedPerHour).toHaveLength(24);
    expect(overview.queue).toMatchObject({ messages: 0 });
    expect(overview.queue.ages).toHaveLength(6);
  });
});
