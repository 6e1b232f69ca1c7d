/**
 * Polls `probe` every `intervalMs` until it gives something other than undefined, and returns that;
 * throws "timed out waiting for <what>" after `timeoutMs`. For what a server does on its own time
 * (a delivery attempt, a log line, a queue change).
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 15_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
