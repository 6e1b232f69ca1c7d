/**
 * The window of a /query response over its full result list (RFC 8620 §5.5): `position` (a
 * negative one counts from the end), or `anchor` with `anchorOffset`, and `limit`.
 */
import { MethodError } from "./request.ts";

/** The most ids one /query answers with; a larger `limit` is lowered and the response says so. */
export const MAX_QUERY_LIMIT = 1000;

const integer = (value: unknown, name: string): number | null => {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new MethodError("invalidArguments", `${name} is an integer`);
  }
  return value;
};

/** Checks the window arguments; true when they ask for no more than a plain page from the start or further on. */
export function isPlainWindow(args: Record<string, unknown>): boolean {
  const position = integer(args.position, "position");
  const limit = integer(args.limit, "limit");
  if (limit !== null && limit < 0) throw new MethodError("invalidArguments", "limit must not be negative");
  integer(args.anchorOffset, "anchorOffset");
  return (args.anchor === undefined || args.anchor === null) && (position === null || position >= 0);
}

/** The ids of the window, where it starts, and the limit when the server lowered it. */
export function queryWindow(all: readonly string[], args: Record<string, unknown>) {
  isPlainWindow(args);
  const asked = integer(args.limit, "limit");
  const limit = Math.min(asked ?? MAX_QUERY_LIMIT, MAX_QUERY_LIMIT);
  let position: number;
  if (args.anchor !== undefined && args.anchor !== null) {
    const at = all.indexOf(String(args.anchor));
    if (at < 0) throw new MethodError("anchorNotFound", "The anchor is not in the results");
    position = Math.max(0, at + (integer(args.anchorOffset, "anchorOffset") ?? 0));
  } else {
    const given = integer(args.position, "position") ?? 0;
    position = given < 0 ? Math.max(0, all.length + given) : given;
  }
  return {
    position,
    ids: all.slice(position, position + limit),
    ...(asked === null || asked > MAX_QUERY_LIMIT ? { limit } : {}),
  };
}
