/**
 * Outbound connections (delivery to other MXs, smart hosts): a TCP connection with a timeout,
 * wrapped in the same `Connection` interface the servers use, upgradable with STARTTLS.
 */
import { connect, type Socket } from "node:net";
import { SocketConnection } from "./connection.ts";

export interface DialOptions {
  host: string;
  port: number;
  /** The name TLS verifies the certificate against (the MX host name). */
  servername: string;
  /** Verify the certificate on STARTTLS (opportunistic TLS does not). */
  verifyTls: boolean;
  connectTimeoutMs: number;
  idleTimeoutMs: number;
}

export function dial(options: DialOptions): Promise<SocketConnection> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: options.host, port: options.port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        Object.assign(new Error(`connection to ${options.host}:${options.port} timed out`), { code: "ETIMEDOUT" }),
      );
    }, options.connectTimeoutMs);
    socket.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(
        new SocketConnection(socket, {
          listener: "outbound",
          idleTimeoutMs: options.idleTimeoutMs,
          client: { servername: options.servername, verify: options.verifyTls },
        }),
      );
    });
  });
}
