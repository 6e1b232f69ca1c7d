import { LISTENER_NAMES, type ListenerName } from "../src/config/schema.ts";

/**
 * The `listeners` of a benchmark's config: `name` on a free loopback port, every other listener
 * off (left on, they would take their default ports, which another run or test may hold).
 */
export function onlyListener(name: ListenerName): Record<string, false | { host: string; port: number }> {
  return Object.fromEntries(LISTENER_NAMES.map((l) => [l, l === name ? { host: "127.0.0.1", port: 0 } : false]));
}

/**
 * Reads a `postern serve` process's log until a listener reports `listening`, and returns the
 * port it bound. Benchmarks configure port 0, so a port left in TIME_WAIT or taken by another
 * run never makes a server fail to start. The log is then read on, and dropped, until the process
 * ends: a server whose stderr pipe is closed fails its next log write (Deno exits with code 1).
 */
export async function listeningPort(stderr: ReadableStream<Uint8Array>, listener: string): Promise<number> {
  const pattern = new RegExp(`listening listener=${listener} address=\\S*:(\\d+)`);
  const reader = stderr.getReader();
  const decoder = new TextDecoder();
  let log = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`the server ended before its ${listener} listener was up:\n${log}`);
    log += decoder.decode(value, { stream: true });
    const port = pattern.exec(log)?.[1];
    if (port) {
      void drain(reader);
      return Number(port);
    }
  }
}

async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
  try {
    while (!(await reader.read()).done);
  } catch {
    // The stream errored as the process ended: nothing left to read.
  }
}
