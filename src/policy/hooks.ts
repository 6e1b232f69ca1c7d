/**
 * The user's own policy: a JavaScript/TypeScript module exporting `rcpt` and/or `data` hook
 * functions, or an HTTP endpoint that receives each stage as JSON. Both return a verdict
 * (`{ action: "reject", reason: "…" }`); returning nothing accepts.
 */
import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import PostalMime from "postal-mime";
import type { PolicyCheck, PolicyContext } from "./pipeline.ts";
import { accept, isVerdict, type Verdict } from "./verdict.ts";

/** What a hook function receives: the stage's context, and the message parsed on demand. */
export interface HookContext extends PolicyContext {
  /** The message parsed by postal-mime (data stage only). */
  parsed(): Promise<Awaited<ReturnType<typeof PostalMime.parse>>>;
}

export type HookFunction = (context: HookContext) => Verdict | undefined | void | Promise<Verdict | undefined | void>;

export interface HookModule {
  rcpt?: HookFunction;
  data?: HookFunction;
}

function withParsed(context: PolicyContext): HookContext {
  let parsed: ReturnType<typeof PostalMime.parse> | undefined;
  return { ...context, parsed: () => (parsed ??= PostalMime.parse(context.raw ?? new Uint8Array())) };
}

function asVerdict(value: unknown, hook: string): Verdict {
  if (value === undefined || value === null) return accept;
  if (!isVerdict(value)) throw new Error(`${hook} returned something that is not a verdict`);
  return value;
}

/**
 * Hook functions given directly (an embedding program's `hooks`), or through `load` once on
 * first use (a module named in config).
 */
export function functionHook(
  name: string,
  hooks: HookModule | (() => Promise<HookModule>),
  timeoutMs: number,
): PolicyCheck {
  let loaded: Promise<HookModule> | undefined;
  return {
    name: `hook ${name}`,
    stages: ["rcpt", "data"],
    roles: ["mx", "submission"],
    timeoutMs,
    onFailure: "tempfail",
    async run(context) {
      const module = await (loaded ??= typeof hooks === "function" ? hooks() : Promise.resolve(hooks));
      const fn = module[context.stage];
      return fn ? asVerdict(await fn(withParsed(context)), name) : accept;
    },
  };
}

/** A module hook; its path is relative to `baseDir` (the config file's folder). */
export function moduleHook(path: string, baseDir: string, timeoutMs: number): PolicyCheck {
  const url = pathToFileURL(isAbsolute(path) ? path : resolve(baseDir, path)).href;
  return functionHook(path, () => import(url) as Promise<HookModule>, timeoutMs);
}

/** An HTTP hook: POST `{ stage, role, remoteAddress, helo, sender, recipients, account, raw? }`, verdict JSON back. */
export function httpHook(url: string, timeoutMs: number): PolicyCheck {
  return {
    name: `hook ${url}`,
    stages: ["rcpt", "data"],
    roles: ["mx", "submission"],
    timeoutMs,
    onFailure: "tempfail",
    async run(context) {
      const { raw, ...rest } = context;
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ...rest, ...(raw ? { raw: Buffer.from(raw).toString("base64") } : {}) }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!response.ok) throw new Error(`hook answered ${response.status}`);
      const text = await response.text();
      return text.trim() ? asVerdict(JSON.parse(text), url) : accept;
    },
  };
}
