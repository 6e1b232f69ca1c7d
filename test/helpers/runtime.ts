/**
 * Which runtime end-to-end tests start Postern with: `POSTERN_TEST_RUNTIME` = bun (default),
 * deno, or binary (dist/postern, made by `bun run build`).
 */
import { join } from "node:path";

export type Runtime = "bun" | "deno" | "binary";

export const ROOT = join(import.meta.dirname, "..", "..");

export function runtime(): Runtime {
  const r = process.env.POSTERN_TEST_RUNTIME ?? "bun";
  if (r !== "bun" && r !== "deno" && r !== "binary") {
    throw new Error(`POSTERN_TEST_RUNTIME must be bun, deno or binary, not ${r}`);
  }
  return r;
}

/** The command line that runs `postern <args>` on the chosen runtime. */
export function posternCommand(args: string[], which: Runtime = runtime()): string[] {
  const bin = join(ROOT, "node_modules", ".bin");
  switch (which) {
    case "bun":
      return [process.execPath, join(ROOT, "src/main.ts"), ...args];
    case "deno":
      // --expose-gc: Postern collects after storing a large message where the runtime lets it (src/util/gc.ts).
      return [join(bin, "deno"), "run", "-A", "--v8-flags=--expose-gc", "--quiet", join(ROOT, "src/main.ts"), ...args];
    case "binary":
      return [join(ROOT, "dist/postern"), ...args];
  }
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `postern <args>` to completion. */
export async function runPostern(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; runtime?: Runtime } = {},
): Promise<RunResult> {
  const proc = Bun.spawn(posternCommand(args, options.runtime), {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}
