/**
 * An account's Sieve scripts over REST (issue 21), as `postern sieve list|get|put|activate|delete` does them, with the
 * rules ManageSieve and JMAP use (src/backends/sieve-scripts.ts): a script is stored only when it compiles, and the
 * refusal says the line and column of the error.
 */
import * as v from "valibot";
import { SCRIPT_LIMITS, type ScriptResult, SieveScriptService } from "../../backends/sieve-scripts.ts";
import type { Store } from "../../store/store.ts";
import { problem } from "../problem.ts";
import type { RouteRegistry } from "./registry.ts";

const Script = v.object({ name: v.string(), active: v.boolean(), size: v.number(), updatedAt: v.string() });
const ScriptContent = v.object({ name: v.string(), active: v.boolean(), content: v.string() });
const accountParams = v.object({ address: v.string() });
const scriptParams = v.object({ address: v.string(), name: v.string() });

export function sieveRoutes(routes: RouteRegistry, store: Store): void {
  const scripts = new SieveScriptService(store);
  const accountId = async (address: string) => (await store.accounts.get(address))?.id;
  const noAccount = (c: Parameters<typeof problem>[0], address: string) =>
    problem(c, 404, "not-found", `No account ${address}`);

  /** The problem document for a refusal of the script rules. */
  const refused = (c: Parameters<typeof problem>[0], result: Exclude<ScriptResult, { kind: "ok" }>, name: string) => {
    switch (result.kind) {
      case "bad-name":
        return problem(c, 400, "validation", "A script name is 1 to 128 characters, no control characters or /");
      case "invalid":
        return problem(c, 422, "invalid-script", `Script ${name} is not valid Sieve: ${result.message}`);
      case "too-big":
        return problem(c, 413, "too-large", `Scripts are limited to ${SCRIPT_LIMITS.maxSize} bytes`);
      case "too-many":
        return problem(c, 409, "conflict", `An account may keep at most ${SCRIPT_LIMITS.maxScripts} scripts`);
      case "nonexistent":
        return problem(c, 404, "not-found", `No script named ${name}`);
      case "exists":
        return problem(c, 409, "conflict", `A script named ${name} exists`);
      case "active":
        return problem(c, 409, "conflict", `Script ${name} is active; deactivate it first`);
    }
  };

  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}/sieve",
    tag: "sieve",
    summary: "List an account's Sieve scripts",
    params: accountParams,
    response: { status: 200, schema: v.array(Script) },
    handler: async (c, { params }) => {
      const id = await accountId(params.address);
      if (id === undefined) return noAccount(c, params.address);
      return c.json(
        (await scripts.list(id)).map((s) => ({ ...s, updatedAt: s.updatedAt.toISOString() })),
      );
    },
  });

  routes.add({
    method: "get",
    path: "/api/v1/accounts/{address}/sieve/{name}",
    tag: "sieve",
    summary: "Get a Sieve script",
    params: scriptParams,
    response: { status: 200, schema: ScriptContent },
    handler: async (c, { params }) => {
      const id = await accountId(params.address);
      if (id === undefined) return noAccount(c, params.address);
      const script = (await scripts.list(id)).find((s) => s.name === params.name);
      const content = script ? await scripts.get(id, params.name) : null;
      if (!script || content === null) return refused(c, { kind: "nonexistent" }, params.name);
      return c.json({ name: script.name, active: script.active, content });
    },
  });

  routes.add({
    method: "put",
    path: "/api/v1/accounts/{address}/sieve/{name}",
    tag: "sieve",
    summary: "Store a Sieve script (created or replaced; an active script stays active), checked first",
    params: scriptParams,
    body: v.strictObject({
      content: v.string(),
      /** Make it the active script once stored. */
      activate: v.optional(v.boolean(), false),
    }),
    response: { status: 200, schema: v.object({ name: v.string(), active: v.boolean() }) },
    handler: async (c, { params, body }) => {
      const id = await accountId(params.address);
      if (id === undefined) return noAccount(c, params.address);
      const existed = (await scripts.list(id)).find((s) => s.name === params.name);
      const stored = await scripts.put(id, params.name, body.content);
      if (stored.kind !== "ok") return refused(c, stored, params.name);
      if (body.activate) await scripts.activate(id, params.name);
      return c.json({ name: params.name, active: body.activate || (existed?.active ?? false) }, existed ? 200 : 201);
    },
  });

  routes.add({
    method: "post",
    path: "/api/v1/accounts/{address}/sieve/{name}/activate",
    tag: "sieve",
    summary: "Make a Sieve script the active one (the one run at delivery)",
    params: scriptParams,
    response: { status: 204 },
    handler: async (c, { params }) => {
      const id = await accountId(params.address);
      if (id === undefined) return noAccount(c, params.address);
      const result = await scripts.activate(id, params.name);
      return result.kind === "ok" ? c.body(null, 204) : refused(c, result, params.name);
    },
  });

  routes.add({
    method: "post",
    path: "/api/v1/accounts/{address}/sieve/deactivate",
    tag: "sieve",
    summary: "Deactivate the active Sieve script: no script runs at delivery",
    params: accountParams,
    response: { status: 204 },
    handler: async (c, { params }) => {
      const id = await accountId(params.address);
      if (id === undefined) return noAccount(c, params.address);
      await scripts.activate(id, null);
      return c.body(null, 204);
    },
  });

  routes.add({
    method: "delete",
    path: "/api/v1/accounts/{address}/sieve/{name}",
    tag: "sieve",
    summary: "Delete a Sieve script (not the active one)",
    params: scriptParams,
    response: { status: 204 },
    handler: async (c, { params }) => {
      const id = await accountId(params.address);
      if (id === undefined) return noAccount(c, params.address);
      const result = await scripts.delete(id, params.name);
      return result.kind === "ok" ? c.body(null, 204) : refused(c, result, params.name);
    },
  });
}
