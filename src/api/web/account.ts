/**
 * The webmail's settings for the signed-in account itself (issue 22), with its session cookie and CSRF token
 * (webSessionAccount), never another account's: a new password (the current one first; the store then ends every
 * webmail session of the account, this one included) and the account's API tokens (list, create — shown once —
 * and revoke), as the admin REST API does them under /api/v1/accounts/{address}/tokens.
 */
import type { BlockList } from "node:net";
import type { Context, Hono } from "hono";
import type { AuthThrottle } from "../../auth/throttle.ts";
import { checkPassword } from "../../backends/password.ts";
import { StoreError } from "../../store/errors.ts";
import type { Store } from "../../store/store.ts";
import { clientAddress, readBody } from "../client.ts";
import { problem } from "../problem.ts";
import { clearSessionCookie, webSessionAccount } from "./session.ts";

export interface AccountSettingsOptions {
  store: Store;
  throttle?: AuthThrottle;
  trustedProxies?: BlockList | null;
}

/** The admin API's rule for a password set over HTTP (src/api/rest/admin.ts). */
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;

async function jsonBody(c: Context): Promise<Record<string, unknown> | null> {
  if (!/^application\/json\b/i.test(c.req.header("content-type") ?? "")) return null;
  const bytes = await readBody(c, 10_000);
  if (bytes === "too-large") return null;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes));
    return value && typeof value === "object" && !Array.isArray(value) ? value : null;
  } catch {
    return null;
  }
}

export function mountAccountSettings(app: Hono, options: AccountSettingsOptions): void {
  const { store } = options;
  const notSignedIn = (c: Context) => problem(c, 401, "unauthorized", "Not signed in (or no CSRF token)");

  app.post("/mail/account/password", async (c) => {
    const account = await webSessionAccount(c, store);
    if (!account) return notSignedIn(c);
    const body = await jsonBody(c);
    const { current, password } = body ?? {};
    if (typeof current !== "string" || typeof password !== "string") {
      return problem(c, 400, "bad-request", "The body must be JSON: {current, password}");
    }
    if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
      return problem(c, 400, "bad-request", `The new password must be ${MIN_PASSWORD} to ${MAX_PASSWORD} characters`);
    }
    // The current password, through the same throttle as a sign-in: a session left open is not a password.
    const checked = options.throttle
      ? await checkPassword(
        store,
        options.throttle,
        account.address,
        current,
        clientAddress(c, options.trustedProxies ?? null),
      )
      : await store.accounts.verify(account.address, current);
    if (checked === "banned") return problem(c, 429, "too-many-requests", "Too many failed attempts; try later");
    if (!checked) return problem(c, 403, "forbidden", "The current password is wrong");
    await store.accounts.setPassword(account.address, password);
    clearSessionCookie(c);
    return c.body(null, 204);
  });

  app.get("/mail/account/tokens", async (c) => {
    const account = await webSessionAccount(c, store);
    if (!account) return notSignedIn(c);
    const tokens = await store.tokens.list(account.address);
    return c.json(
      tokens.map((t) => ({ id: t.id, name: t.name, createdAt: t.createdAt.toISOString() })),
      200,
      { "cache-control": "no-store" },
    );
  });

  app.post("/mail/account/tokens", async (c) => {
    const account = await webSessionAccount(c, store);
    if (!account) return notSignedIn(c);
    const name = (await jsonBody(c))?.name;
    if (typeof name !== "string" || !name.trim() || name.length > 100) {
      return problem(c, 400, "bad-request", "The body must be JSON: {name} (1 to 100 characters)");
    }
    const created = await store.tokens.create(account.address, name.trim());
    return c.json({ id: created.id, name: name.trim(), token: created.token }, 201, { "cache-control": "no-store" });
  });

  app.delete("/mail/account/tokens/:id", async (c) => {
    const account = await webSessionAccount(c, store);
    if (!account) return notSignedIn(c);
    const id = c.req.param("id");
    if (!/^\d{1,15}$/.test(id)) return problem(c, 404, "not-found", "No such token");
    try {
      // Revoked only among this account's tokens: another account's id is not found, as if it did not exist.
      await store.tokens.revoke(account.address, Number(id));
    } catch (e) {
      if (e instanceof StoreError && e.code === "not-found") return problem(c, 404, "not-found", "No such token");
      throw e;
    }
    return c.body(null, 204);
  });
}
