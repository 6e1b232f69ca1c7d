/**
 * Sieve (RFC 5228 and extensions, issue 21): `compileSieve` parses and validates a script, `runScript` runs it
 * against a message view and returns actions. Pure: no I/O anywhere in this folder.
 */
import type { SieveError } from "./errors.ts";
import type { SieveLimits } from "./limits.ts";
import { parseScript } from "./parser.ts";
import { CAPABILITIES } from "./signatures.ts";
import { validateScript, type ValidScript } from "./validate.ts";

export type { SieveAction } from "./actions.ts";
export type { SieveEnvironment } from "./environment.ts";
export { SieveError, SieveRuntimeError } from "./errors.ts";
export { runScript, type SieveResult } from "./interpret.ts";
export { DEFAULT_LIMITS, type SieveLimits } from "./limits.ts";
export { type BodyTransform, messageView, type SieveEnvelope, type SieveMessage } from "./message.ts";
export { CAPABILITIES } from "./signatures.ts";
export type { ValidScript } from "./validate.ts";

export type CompileResult = { ok: true; script: ValidScript } | { ok: false; error: SieveError };

/** Parses and validates a script; `extensions` narrows the capabilities it may require. */
export function compileSieve(
  source: string,
  options: { extensions?: readonly string[]; limits?: Partial<SieveLimits> } = {},
): CompileResult {
  const parsed = parseScript(source, options.limits);
  if (!parsed.ok) return parsed;
  return validateScript(parsed.commands, options.extensions ?? CAPABILITIES);
}
