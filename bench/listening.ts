/**
 * Reads a `postern serve` process's log until a listener reports `listening`, and returns the
 * port it bound. Benchmarks configure port 0, so a port left in TIME_WAIT or taken by another
 * run never makes a server fail to start.
 */
export async function listeningPort(stderr: ReadableStream<Uint8Array>, listener: string): Promise<number> {
  const pattern = new RegExp(`listening listener=${listener} address=\\S*:(\\d+)`);
  const decoder = new TextDecoder();
  let log = "";
  for await (const chunk of stderr) {
    log += decoder.decode(chunk, { stream: true });
    const port = pattern.exec(log)?.[1];
    if (port) return Number(port);
  }
  throw new Error(`the server ended before its ${listener} listener was up:\n${log}`);
}
