/**
 * Loading the configuration: embedded defaults, then the JSON file named by `--config` or
 * `POSTERN_CONFIG`, then `POSTERN_*` environment variables, validated as one object.
 */
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import * as v from "valibot";
import { applyEnv, EnvValueError } from "./env.ts";
import { type Config, configSchema } from "./schema.ts";

/** A configuration that cannot be used. `key` is the dotted path, `source` the file or variable. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    readonly reason: string,
    readonly source: string,
  ) {
    super(`Invalid config: ${key || "(root)"}${value === undefined ? "" : ` = ${show(value)}`}: ${reason} (${source})`);
    this.name = "ConfigError";
  }
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export interface LoadOptions {
  /** Path of the JSON file; falls back to `env.POSTERN_CONFIG`; no file means defaults. */
  file?: string;
  env?: Record<string, string | undefined>;
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError("", undefined, `cannot read the config file: ${(e as Error).message}`, path);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new ConfigError("", undefined, `not valid JSON: ${(e as Error).message}`, path);
  }
  if (typeof data !== "object" || data === null || Array.isArray(data)) {
    throw new ConfigError("", data, "the config file must hold a JSON object", path);
  }
  return data as Record<string, unknown>;
}

/**
 * A union (`false` or an object) reports one issue for the whole value, with the options' issues
 * inside it (their paths relative to the union). The most useful reason is the one that got
 * furthest into the value, e.g. `policy.clamav.onFailure`.
 */
function deepest(issue: v.GenericIssue, base: string[] = []): { issue: v.GenericIssue; path: string[] } {
  const path = [...base, ...(issue.path ?? []).map((p) => String(p.key))];
  let best = { issue, path };
  for (const sub of issue.issues ?? []) {
    const candidate = deepest(sub, path);
    if (candidate.path.length > best.path.length) best = candidate;
  }
  return best;
}

/**
 * Validates a config object (from a file, the environment or an embedding program). A relative
 * `dataDir` (and `file:` database path) is taken from `baseDir`: the config file's folder, so a
 * command run elsewhere finds the same data (issue 20, item 9); the current directory otherwise.
 */
export function parseConfig(
  input: unknown,
  source = "config",
  envUsed = new Map<string, string>(),
  baseDir = process.cwd(),
): Config {
  const result = v.safeParse(configSchema, input);
  if (!result.success) {
    const { issue, path } = deepest(result.issues[0]);
    const key = path.join(".");
    const from = envUsed.get(key) ?? [...envUsed].find(([k]) => key.startsWith(`${k}.`))?.[1] ?? source;
    // valibot reports an unknown key of a strict object at the key itself.
    const reason = issue.type === "strict_object" ? "unknown key" : issue.message;
    throw new ConfigError(key, issue.input, reason, from);
  }
  const parsed = result.output;
  // A value from a POSTERN_* variable is relative to where the command runs, as in a shell.
  const dataDir = resolve(envUsed.has("dataDir") ? process.cwd() : baseDir, parsed.dataDir);
  const url = parsed.database.url === undefined
    ? `file:${dataDir}/postern.db`
    : relativeFileUrl(parsed.database.url, envUsed.has("database.url") ? process.cwd() : baseDir);
  if (parsed.tls.cert === undefined !== (parsed.tls.key === undefined)) {
    throw new ConfigError(
      parsed.tls.cert ? "tls.key" : "tls.cert",
      undefined,
      "tls.cert and tls.key go together",
      source,
    );
  }
  if (parsed.metrics.requireToken === true && parsed.api.adminToken === undefined) {
    throw new ConfigError("metrics.requireToken", true, "needs api.adminToken (the token /metrics asks for)", source);
  }
  return { ...parsed, dataDir, database: { ...parsed.database, url } };
}

/** `file:relative/path.db` made absolute against `baseDir`; any other URL as it is. */
function relativeFileUrl(url: string, baseDir: string): string {
  const m = /^file:([^?]*)(\?.*)?$/.exec(url);
  if (!m || m[1]!.startsWith("/") || m[1] === ":memory:" || m[1] === "") return url;
  return `file:${resolve(baseDir, m[1]!)}${m[2] ?? ""}`;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.POSTERN_CONFIG;
  const input = file ? readJson(file) : {};
  let used: Map<string, string>;
  try {
    used = applyEnv(configSchema, input, env);
  } catch (e) {
    if (e instanceof EnvValueError) throw new ConfigError(e.variable, e.value, e.message, "environment");
    throw e;
  }
  // Relative paths in the config (dataDir, the database file, policy hook modules) are relative to the config file.
  const configDir = file ? dirname(resolve(file)) : process.cwd();
  const config = parseConfig(input, file ?? "defaults", used, configDir);
  return { ...config, configDir };
}
