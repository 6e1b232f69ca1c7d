/**
 * Environment overrides: every config key can be set as `POSTERN_<PATH>`, the path's segments
 * upper-cased with camelCase split by `_` (`listeners.smtp.port` → `POSTERN_LISTENERS_SMTP_PORT`,
 * `api.adminToken` → `POSTERN_API_ADMIN_TOKEN`). Arrays and maps take JSON; a listener takes
 * `false` to turn it off.
 */
import type { GenericSchema } from "valibot";

export const ENV_PREFIX = "POSTERN_";

type Kind = "string" | "number" | "boolean" | "json";

export interface EnvKey {
  path: string[];
  name: string;
  kind: Kind;
}

export function envName(path: readonly string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()).join("_");
}

interface Introspectable {
  type: string;
  entries?: Record<string, Introspectable>;
  wrapped?: Introspectable;
  options?: Introspectable[];
  pipe?: Introspectable[];
  literal?: unknown;
}

function unwrap(schema: Introspectable): Introspectable {
  let s = schema;
  while (s.wrapped && (s.type === "optional" || s.type === "nullable" || s.type === "nullish")) s = s.wrapped;
  return s;
}

function leafKind(schema: Introspectable): Kind {
  switch (schema.type) {
    case "string":
    case "picklist":
      return "string";
    case "number":
      return "number";
    case "boolean":
      return "boolean";
    default:
      return "json";
  }
}

/** Lists every settable key of a schema with the name of its environment variable. */
export function envKeys(schema: GenericSchema, prefix: string[] = []): EnvKey[] {
  const keys: EnvKey[] = [];
  const walk = (node: Introspectable, path: string[]): void => {
    const s = unwrap(node);
    const objects = s.type === "union" ? (s.options ?? []).map(unwrap).filter((o) => o.entries) : [];
    if (s.entries) {
      for (const [k, child] of Object.entries(s.entries)) walk(child, [...path, k]);
      return;
    }
    if (objects.length > 0) {
      // e.g. a listener: `false` or `{host, port}`; the whole value takes JSON, each field its own kind.
      keys.push({ path, name: envName(path), kind: "json" });
      for (const o of objects) for (const [k, child] of Object.entries(o.entries ?? {})) walk(child, [...path, k]);
      return;
    }
    keys.push({ path, name: envName(path), kind: leafKind(s) });
  };
  walk(schema as unknown as Introspectable, prefix);
  return keys;
}

export class EnvValueError extends Error {
  constructor(readonly variable: string, readonly value: string, reason: string) {
    super(reason);
  }
}

function convert(key: EnvKey, raw: string): unknown {
  switch (key.kind) {
    case "string":
      return raw;
    case "number": {
      const n = Number(raw);
      if (raw.trim() === "" || Number.isNaN(n)) throw new EnvValueError(key.name, raw, "must be a number");
      return n;
    }
    case "boolean":
      if (raw === "true" || raw === "1") return true;
      if (raw === "false" || raw === "0") return false;
      throw new EnvValueError(key.name, raw, "must be true or false");
    case "json":
      try {
        return JSON.parse(raw);
      } catch {
        throw new EnvValueError(key.name, raw, "must be JSON");
      }
  }
}

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const segment of path.slice(0, -1)) {
    const next = node[segment];
    if (typeof next !== "object" || next === null || Array.isArray(next)) node[segment] = {};
    node = node[segment] as Record<string, unknown>;
  }
  node[path[path.length - 1]!] = value;
}

/**
 * Applies the environment on top of the file's object, shorter paths first so that
 * `POSTERN_LISTENERS_SMTP={...}` and `POSTERN_LISTENERS_SMTP_PORT=...` compose.
 * Returns which variables were used, for error messages.
 */
export function applyEnv(
  schema: GenericSchema,
  input: Record<string, unknown>,
  env: Record<string, string | undefined>,
): Map<string, string> {
  const used = new Map<string, string>();
  const keys = envKeys(schema).sort((a, b) => a.path.length - b.path.length);
  for (const key of keys) {
    const raw = env[key.name];
    if (raw === undefined) continue;
    setPath(input, key.path, convert(key, raw));
    used.set(key.path.join("."), key.name);
  }
  const known = new Set(keys.map((k) => k.name));
  for (const name of Object.keys(env)) {
    if (
      name.startsWith(ENV_PREFIX) && !known.has(name) && name !== "POSTERN_CONFIG" && !name.startsWith("POSTERN_TEST_")
    ) {
      throw new EnvValueError(name, env[name] ?? "", "is not a config key");
    }
  }
  return used;
}
