/**
 * REST for aliases (issue 19): the admin's routes under `/api/v1/aliases` (state, counters,
 * enable/disable) and whether owners may manage aliases at a domain; and the owner's own under
 * `/api/v1/me/aliases`, authenticated by the account's API token instead of the admin token.
 */
import type { Context, MiddlewareHandler } from "hono";
import * as v from "valibot";
import type { AddOptions, AliasDetails } from "../../store/aliases.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import { storeProblem } from "./admin.ts";
import type { RouteRegistry } from "./registry.ts";

const Alias = v.object({
  address: v.string(),
  targets: v.array(v.string()),
  disabled: v.boolean(),
  /** The account managing it with its API token; null for the admin's. */
  owner: v.nullable(v.string()),
  forwarded: v.number(),
  refused: v.number(),
  lastUsedAt: v.nullable(v.string()),
});
const Toggle = v.strictObject({ disabled: v.boolean() });
const byAddress = v.object({ address: v.string() });
const aliasAddress = v.pipe(v.string(), v.minLength(3));

function json({ id: _id, ...a }: AliasDetails): v.InferOutput<typeof Alias> {
  return { ...a, lastUsedAt: a.lastUsedAt?.toISOString() ?? null };
}

async function attempt(c: Context, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (e) {
    return storeProblem(c, e, c.req.method === "POST");
  }
}

/** The account behind each `/api/v1/me` request, set by `ownerAuth`. */
const owners = new WeakMap<Request, { id: number; address: string }>();
const owner = (c: Context) => owners.get(c.req.raw)!;

/** `/api/v1/me/*`: the account's API token (Bearer), not the admin token. */
export function ownerAuth(store: Store): MiddlewareHandler {
  return async (c, next) => {
    const token = /^Bearer (.+)$/i.exec(c.req.header("authorization") ?? "")?.[1];
    const account = token ? await store.tokens.verify(token.trim()) : null;
    if (!account) return problem(c, 401, "unauthorized", "An API token of the account is required (Bearer …)");
    owners.set(c.req.raw, account);
    await next();
  };
}

export function aliasRoutes(routes: RouteRegistry, store: Store, options: AddOptions = {}): void {
  routes.add({
    method: "get",
    path: "/api/v1/aliases",
    tag: "aliases",
    summary: "List aliases, patterns and catch-alls with their state and counters",
    response: { status: 200, schema: v.array(Alias) },
    handler: async (c) => c.json((await store.aliases.details()).map(json)),
  });
  routes.add({
    method: "post",
    path: "/api/v1/aliases",
    tag: "aliases",
    summary: "Add an alias (or targets to an existing one)",
    body: v.strictObject({
      address: aliasAddress,
      targets: v.pipe(v.array(v.string()), v.minLength(1, "needs at least one target")),
    }),
    response: { status: 201, schema: Alias },
    handler: (c, { body }) =>
      attempt(c, async () => {
        const a = await store.aliases.add(body.address, body.targets, options);
        return c.json(json((await store.aliases.detail(a.address))!), 201);
      }),
  });
  routes.add({
    method: "get",
    path: "/api/v1/aliases/{address}",
    tag: "aliases",
    summary: "An alias with its state and counters",
    params: byAddress,
    response: { status: 200, schema: Alias },
    handler: async (c, { params }) => {
      const a = await store.aliases.detail(params.address);
      return a ? c.json(json(a)) : problem(c, 404, "not-found", `No such alias: ${params.address}`);
    },
  });
  routes.add({
    method: "patch",
    path: "/api/v1/aliases/{address}",
    tag: "aliases",
    summary: "Disable an alias (its mail is refused, or dropped) or enable it again",
    params: byAddress,
    body: Toggle,
    response: { status: 200, schema: Alias },
    handler: (c, { params, body }) =>
      attempt(c, async () => c.json(json(await store.aliases.setDisabled(params.address, body.disabled)))),
  });
  routes.add({
    method: "delete",
    path: "/api/v1/aliases/{address}",
    tag: "aliases",
    summary: "Remove an alias",
    params: byAddress,
    response: { status: 204 },
    handler: (c, { params }) =>
      attempt(c, async () => {
        await store.aliases.remove(params.address);
        return c.body(null, 204);
      }),
  });
  routes.add({
    method: "patch",
    path: "/api/v1/domains/{name}/owner-aliases",
    tag: "aliases",
    summary: "Let accounts manage their own aliases at the domain with their API token, or stop it",
    params: v.object({ name: v.string() }),
    body: v.strictObject({ allowed: v.boolean() }),
    response: { status: 204 },
    handler: (c, { params, body }) =>
      attempt(c, async () => {
        await store.aliases.allowOwners(params.name, body.allowed);
        return c.body(null, 204);
      }),
  });
  routes.add({
    method: "patch",
    path: "/api/v1/domains/{name}/reverse-aliases",
    tag: "aliases",
    summary: "Reply through the alias: give mail forwarded through the domain's aliases reverse addresses, or stop",
    params: v.object({ name: v.string() }),
    body: v.strictObject({ enabled: v.boolean() }),
    response: { status: 204 },
    handler: (c, { params, body }) =>
      attempt(c, async () => {
        await store.aliases.reverse.enable(params.name, body.enabled);
        return c.body(null, 204);
      }),
  });

  // The owner's own aliases. Targets are the owner's own address; another account's alias is "not found".
  routes.add({
    method: "get",
    path: "/api/v1/me/aliases",
    tag: "me",
    summary: "The aliases this account manages",
    response: { status: 200, schema: v.array(Alias) },
    handler: async (c) => c.json((await store.aliases.details(owner(c).id)).map(json)),
  });
  routes.add({
    method: "post",
    path: "/api/v1/me/aliases",
    tag: "me",
    summary: "Create an alias delivering to this account, at a domain that lets owners do so",
    body: v.strictObject({ address: aliasAddress }),
    response: { status: 201, schema: Alias },
    handler: (c, { body }) =>
      attempt(c, async () => {
        const me = owner(c);
        const a = await store.aliases.add(body.address, [me.address], { ownerId: me.id });
        return c.json(json((await store.aliases.detail(a.address))!), 201);
      }),
  });
  routes.add({
    method: "patch",
    path: "/api/v1/me/aliases/{address}",
    tag: "me",
    summary: "Disable one of this account's aliases, or enable it again",
    params: byAddress,
    body: Toggle,
    response: { status: 200, schema: Alias },
    handler: (c, { params, body }) =>
      attempt(
        c,
        async () => c.json(json(await store.aliases.setDisabled(params.address, body.disabled, owner(c).id))),
      ),
  });
  routes.add({
    method: "delete",
    path: "/api/v1/me/aliases/{address}",
    tag: "me",
    summary: "Delete one of this account's aliases",
    params: byAddress,
    response: { status: 204 },
    handler: (c, { params }) =>
      attempt(c, async () => {
        await store.aliases.remove(params.address, [], owner(c).id);
        return c.body(null, 204);
      }),
  });
}
