/**
 * REST administration of domains and accounts (`/api/v1`); aliases are in aliases.ts.
 */
import type { Context } from "hono";
import * as v from "valibot";
import { StoreError } from "../../store/errors.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import type { RouteRegistry } from "./registry.ts";

const Domain = v.object({ name: v.string(), kind: v.picklist(["mailbox", "forward"]) });
const Account = v.object({
  address: v.string(),
  displayName: v.nullable(v.string()),
  quota: v.nullable(v.number()),
  disabled: v.boolean(),
  /** May sign in to the admin console with its address and password. */
  admin: v.boolean(),
});
const password = v.pipe(v.string(), v.minLength(8, "must be at least 8 characters"), v.maxLength(1024));

/** Store errors become problem documents: exists/in-use → 409, not-found → 404, invalid → 400. */
export function storeProblem(c: Context, e: unknown, creating = false) {
  if (!(e instanceof StoreError)) throw e;
  // Creating something under a parent that does not exist (an account at an unknown domain) is a bad request.
  const notFound = e.code === "not-found" && !creating;
  const status = notFound ? 404 : e.code === "invalid" || e.code === "not-found" ? 400 : 409;
  return problem(c, status, notFound ? "not-found" : status === 400 ? "validation" : "conflict", e.message);
}

async function attempt(c: Context, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    return storeProblem(c, e, c.req.method === "POST");
  }
}

export function adminRoutes(routes: RouteRegistry, store: Store): void {
  routes.add({
    method: "get",
    path: "/api/v1/domains",
    tag: "domains",
    summary: "List domains",
    response: { status: 200, schema: v.array(Domain) },
    handler: async (c) => c.json((await store.domains.list()).map((d) => ({ name: d.name, kind: d.kind }))),
  });
  routes.add({
    method: "post",
    path: "/api/v1/domains",
    tag: "domains",
    summary: "Add a domain",
    body: v.strictObject({
      name: v.pipe(v.string(), v.minLength(1)),
      kind: v.optional(v.picklist(["mailbox", "forward"]), "mailbox"),
    }),
    response: { status: 201, schema: Domain },
    handler: (c, { body }) =>
      attempt(c, async () => {
        const d = await store.domains.add(body.name, body.kind);
        return c.json({ name: d.name, kind: d.kind }, 201);
      }),
  });
  routes.add({
    method: "delete",
    path: "/api/v1/domains/{name}",
    tag: "domains",
    summary: "Remove a domain that has no accounts or aliases",
    params: v.object({ name: v.string() }),
    response: { status: 204 },
    handler: (c, { params }) =>
      attempt(c, async () => {
        await store.domains.remove(params.name);
        return c.body(null, 204);
      }),
  });

  const accountJson = (
    a: { address: string; displayName: string | null; quota: number | null; disabled: boolean; admin: boolean },
  ) => ({
    address: a.address,
    displayName: a.displayName,
    quota: a.quota,
    disabled: a.disabled,
    admin: a.admin,
  });
  routes.add({
    method: "get",
    path: "/api/v1/accounts",
    tag: "accounts",
    summary: "List accounts",
    response: { status: 200, schema: v.array(Account) },
    handler: async (c) => c.json((await store.accounts.list()).map(accountJson)),
  });
  routes.add({
    method: "post",
    path: "/api/v1/accounts",
    tag: "accounts",
    summary: "Add an account with its default mailboxes",
    body: v.strictObject({
      address: v.pipe(v.string(), v.email("must be an email address")),
      password,
      displayName: v.optional(v.string()),
      quota: v.optional(v.pipe(v.number(), v.integer(), v.minValue(0))),
    }),
    response: { status: 201, schema: Account },
    handler: (c, { body }) =>
      attempt(c, async () => {
        const a = await store.accounts.add({
          address: body.address,
          password: body.password,
          displayName: body.displayName,
          quota: body.quota,
        });
        return c.json(accountJson(a), 201);
      }),
  });
  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}",
    tag: "accounts",
    summary: "Get an account",
    params: v.object({ address: v.string() }),
    response: { status: 200, schema: Account },
    handler: async (c, { params }) => {
      const a = await store.accounts.get(params.address);
      return a ? c.json(accountJson(a)) : problem(c, 404, "not-found", `No account ${params.address}`);
    },
  });
  routes.add({
    method: "patch",
    path: "/api/v1/accounts/{address}",
    tag: "accounts",
    summary: "Change an account's password, or whether it may sign in to the admin console",
    params: v.object({ address: v.string() }),
    body: v.strictObject({ password: v.optional(password), admin: v.optional(v.boolean()) }),
    response: { status: 204 },
    handler: (c, { params, body }) =>
      attempt(c, async () => {
        if (body.password !== undefined) await store.accounts.setPassword(params.address, body.password);
        if (body.admin !== undefined) await store.accounts.setAdmin(params.address, body.admin);
        return c.body(null, 204);
      }),
  });
  routes.add({
    method: "delete",
    path: "/api/v1/accounts/{address}",
    tag: "accounts",
    summary: "Remove an account and its mail",
    params: v.object({ address: v.string() }),
    response: { status: 204 },
    handler: (c, { params }) =>
      attempt(c, async () => {
        await store.accounts.remove(params.address);
        return c.body(null, 204);
      }),
  });

  const accountParams = v.object({ address: v.string() });
  routes.add({
    method: "post",
    path: "/api/v1/accounts/{address}/tokens",
    tag: "accounts",
    summary: "Create an API token for the account (JMAP); shown once",
    params: accountParams,
    body: v.strictObject({ name: v.pipe(v.string(), v.minLength(1), v.maxLength(100)) }),
    response: { status: 201, schema: v.object({ id: v.number(), name: v.string(), token: v.string() }) },
    handler: (c, { params, body }) =>
      attempt(c, async () => {
        const created = await store.tokens.create(params.address, body.name);
        return c.json({ id: created.id, name: body.name, token: created.token }, 201);
      }),
  });
  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}/tokens",
    tag: "accounts",
    summary: "List the account's API tokens (never the tokens themselves)",
    params: accountParams,
    response: { status: 200, schema: v.array(v.object({ id: v.number(), name: v.string(), createdAt: v.string() })) },
    handler: (c, { params }) =>
      attempt(
        c,
        async () =>
          c.json(
            (await store.tokens.list(params.address)).map((t) => ({
              id: t.id,
              name: t.name,
              createdAt: t.createdAt.toISOString(),
            })),
          ),
      ),
  });
  routes.add({
    method: "delete",
    path: "/api/v1/accounts/{address}/tokens/{id}",
    tag: "accounts",
    summary: "Revoke an API token",
    params: v.object({
      address: v.string(),
      id: v.pipe(v.string(), v.regex(/^\d+$/, "must be a token id"), v.transform(Number)),
    }),
    response: { status: 204 },
    handler: (c, { params }) =>
      attempt(c, async () => {
        await store.tokens.revoke(params.address, params.id);
        return c.body(null, 204);
      }),
  });
}
