/**
 * One table of REST routes: each declares its valibot schemas once, and they serve both to
 * validate requests (with problem documents naming each bad field) and to generate the
 * OpenAPI 3.1 document (`/api/openapi.json`) through @valibot/to-json-schema.
 */
import { readBody } from "../client.ts";
import { toJsonSchema } from "@valibot/to-json-schema";
import type { Context, Hono } from "hono";
import * as v from "valibot";
import { problem } from "../problem.ts";

type Schema = v.GenericSchema;

export interface RouteSpec<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined> {
  method: "get" | "post" | "put" | "patch" | "delete";
  /** OpenAPI style: /api/v1/domains/{name} */
  path: string;
  summary: string;
  tag: string;
  params?: P;
  query?: Q;
  body?: B;
  /** The success response: status, and schema (absent for 204 or non-JSON bodies). */
  response: { status: number; schema?: Schema; contentType?: string };
  handler: (
    c: Context,
    input: {
      params: P extends Schema ? v.InferOutput<P> : undefined;
      query: Q extends Schema ? v.InferOutput<Q> : undefined;
      body: B extends Schema ? v.InferOutput<B> : undefined;
    },
  ) => Promise<Response> | Response;
}

type AnySpec = RouteSpec<Schema | undefined, Schema | undefined, Schema | undefined>;

export class RouteRegistry {
  readonly routes: AnySpec[] = [];

  add<P extends Schema | undefined, Q extends Schema | undefined, B extends Schema | undefined>(
    spec: RouteSpec<P, Q, B>,
  ): void {
    this.routes.push(spec as unknown as AnySpec);
  }

  /** Registers every route on the Hono app, with validation in front of each handler. */
  mount(app: Hono, maxBodyBytes: number): void {
    for (const spec of this.routes) {
      const honoPath = spec.path.replace(/\{(\w+)\}/g, ":$1");
      app.on(spec.method.toUpperCase(), honoPath, async (c) => {
        const params = spec.params ? v.safeParse(spec.params, c.req.param()) : null;
        if (params && !params.success) return invalid(c, params.issues, "path");
        const query = spec.query ? v.safeParse(spec.query, c.req.query()) : null;
        if (query && !query.success) return invalid(c, query.issues, "query");
        let body: v.SafeParseResult<Schema> | null = null;
        if (spec.body) {
          const bytes = await readBody(c, maxBodyBytes);
          if (bytes === "too-large") {
            return problem(c, 413, "too-large", `The body may be at most ${maxBodyBytes} bytes`);
          }
          let json: unknown;
          try {
            json = JSON.parse(new TextDecoder().decode(bytes));
          } catch {
            return problem(c, 400, "not-json", "The request body must be a JSON document");
          }
          body = v.safeParse(spec.body, json);
          if (!body.success) return invalid(c, body.issues, "body");
        }
        return spec.handler(c, { params: params?.output, query: query?.output, body: body?.output } as never);
      });
    }
  }

  /** The OpenAPI 3.1 document of every registered route. */
  openApi(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const schema = (s: Schema) =>
      toJsonSchema(s, { errorMode: "ignore", target: "openapi-3.0" } as never) as Record<string, unknown>;
    for (const spec of this.routes) {
      const parameters: unknown[] = [];
      for (const [where, s] of [["path", spec.params], ["query", spec.query]] as const) {
        if (!s) continue;
        const json = schema(s) as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, property] of Object.entries(json.properties ?? {})) {
          parameters.push({
            name,
            in: where,
            required: where === "path" || (json.required ?? []).includes(name),
            schema: property,
          });
        }
      }
      const responses: Record<string, unknown> = {
        [spec.response.status]: {
          description: spec.summary,
          ...(spec.response.schema
            ? { content: { "application/json": { schema: schema(spec.response.schema) } } }
            : {}),
          ...(spec.response.contentType ? { content: { [spec.response.contentType]: {} } } : {}),
        },
        default: {
          description: "A problem document (RFC 9457)",
          content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
        },
      };
      (paths[spec.path] ??= {})[spec.method] = {
        summary: spec.summary,
        tags: [spec.tag],
        ...(parameters.length ? { parameters } : {}),
        ...(spec.body
          ? { requestBody: { required: true, content: { "application/json": { schema: schema(spec.body) } } } }
          : {}),
        responses,
      };
    }
    return {
      openapi: "3.1.0",
      info,
      paths,
      components: {
        securitySchemes: { admin: { type: "http", scheme: "bearer" } },
        schemas: {
          Problem: {
            type: "object",
            required: ["type", "title", "status"],
            properties: {
              type: { type: "string" },
              title: { type: "string" },
              status: { type: "integer" },
              detail: { type: "string" },
              errors: {
                type: "array",
                items: { type: "object", properties: { path: { type: "string" }, message: { type: "string" } } },
              },
            },
          },
        },
      },
      security: [{ admin: [] }],
    };
  }
}

function invalid(c: Context, issues: v.BaseIssue<unknown>[], where: string) {
  const errors = issues.map((issue) => ({
    path: [where, ...(issue.path ?? []).map((p) => String(p.key))].join("."),
    message: issue.message,
  }));
  return problem(c, 400, "validation", `The request ${where} is not valid`, errors);
}
