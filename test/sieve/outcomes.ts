/**
 * Postern's side of the Pigeonhole cross-check, runtime-neutral: a script run on a corpus message, normalized like
 * `sieve-test`'s output (pigeonhole.ts). The same function runs in the Bun test process and, through
 * outcomes-cli.ts, under Deno, so the comparison holds on both runtimes (issue 21).
 */
import { readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { compileSieve, messageView, runScript } from "../../src/sieve/index.ts";
import { normalizePostern, type Outcome } from "./pigeonhole.ts";

/** One script on one message file, with its envelope. */
export interface Case {
  source: string;
  message: string;
  envelope: { from: string; to: string };
}

export function posternOutcome(c: Case): Outcome {
  const compiled = compileSieve(c.source);
  if (!compiled.ok) return { compile: "error" };
  const raw = new Uint8Array(readFileSync(c.message));
  return normalizePostern(runScript(compiled.script, messageView(raw, c.envelope), { zoneOffset: 0 }));
}

const ROOT = join(import.meta.dirname!, "..", "..");
const DENO = join(ROOT, "node_modules", ".bin", "deno");

/**
 * The same cases evaluated by the interpreter under Deno (outcomes-cli.ts), in order; the reason as a string when
 * Deno cannot be started (the caller skips with a message).
 */
export function outcomesOnDeno(cases: readonly Case[]): Outcome[] | string {
  const r = spawnSync(DENO, ["run", "--quiet", "--allow-read", join(ROOT, "test/sieve/outcomes-cli.ts")], {
    cwd: ROOT,
    input: JSON.stringify(cases),
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) return `deno could not be started: ${r.error.message}`;
  if (r.status !== 0) throw new Error(`outcomes-cli.ts failed on Deno (exit ${r.status}):\n${r.stderr}`);
  const printed = JSON.parse(r.stdout) as { runtime: string; outcomes: Outcome[] };
  if (printed.runtime !== "deno") throw new Error(`outcomes-cli.ts ran on ${printed.runtime}, not Deno`);
  return printed.outcomes;
}
