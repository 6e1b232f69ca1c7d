/**
 * One request/response exchange with a local daemon (spamd, clamd) over TCP or a unix socket:
 * write the request, read until the daemon closes, give up after the timeout.
 */
import { connect } from "node:net";
import { concatBytes } from "../util/bytes.ts";

export interface DaemonAddress {
  host: string;
  port: number;
  /** A unix socket path; wins over host and port. */
  socket?: string;
}

export function exchange(
  address: DaemonAddress,
  request: readonly Uint8Array[],
  timeoutMs: number,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = address.socket
      ? connect({ path: address.socket })
      : connect({ host: address.host, port: address.port });
    const chunks: Uint8Array[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("connect", () => {
      for (const part of request) socket.write(part);
    });
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(concatBytes(chunks));
    });
  });
}
