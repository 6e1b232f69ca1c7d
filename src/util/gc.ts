/**
 * Asks the runtime to collect garbage now, where it offers a way (Bun always; Deno and Node only when started with
 * `--expose-gc`). Called after a large message is stored: its copies (spool, headers, the database driver's) are
 * garbage by then, and collecting at once keeps the next large message from stacking on them — measured on Bun,
 * twelve 20 MiB messages in a row raised RSS by 150 MiB instead of 237 MiB.
 */
export function collectGarbage(): void {
  const g = globalThis as { Bun?: { gc(force: boolean): void }; gc?: () => void };
  if (g.Bun) g.Bun.gc(true);
  else g.gc?.();
}

/** Messages at least this large are followed by a collection. */
export const LARGE_MESSAGE = 4 * 1024 * 1024;
