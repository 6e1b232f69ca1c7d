/**
 * Error responses as RFC 9457 problem documents, with stable `type` URIs relative to the API.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  /** Validation errors: the path of each bad field and what is wrong with it. */
  errors?: Array<{ path: string; message: string }>;
}

const TITLES: Record<string, string> = {
  "not-found": "Not Found",
  "method-not-allowed": "Method Not Allowed",
  unauthorized: "Unauthorized",
  validation: "Invalid Request",
  conflict: "Conflict",
  "too-large": "Payload Too Large",
  internal: "Internal Server Error",
  "not-json": "Request Body Is Not JSON",
  "over-quota": "Over Quota",
};

export function problem(
  c: Context,
  status: ContentfulStatusCode,
  kind: keyof typeof TITLES | string,
  detail?: string,
  errors?: Problem["errors"],
) {
  const body: Problem = {
    type: `/problems/${kind}`,
    title: TITLES[kind] ?? kind,
    status,
    ...(detail ? { detail } : {}),
    ...(errors ? { errors } : {}),
  };
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="postern"';
  return c.body(JSON.stringify(body), status, headers);
}
