/**
 * A listener's sessions, whatever the socket adapter: the per-IP connection limit, the connect log line and
 * session counter, the handler's run, and the graceful stop (interrupt, grace period, destroy).
 */
import { count } from "../util/counters.ts";
import { log } from "../util/log.ts";
import type { FramedConnection } from "./framed-connection.ts";
import type { ConnectionHandler } from "../connection.ts";
import type { Listener } from "./listener.ts";

export interface SessionOptions {
  name: string;
  maxConnectionsPerIp: number;
  handler: ConnectionHandler;
}

export class Sessions {
  readonly open = new Set<FramedConnection>();
  total = 0;
  /** Set by `stop`: new connections are refused without a word. */
  closing = false;
  #perIp = new Map<string, number>();
  #options: SessionOptions;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /** Counts a new connection from `ip`, or false when it must be refused (limit reached, or stopping). */
  admit(ip: string): boolean {
    const open = this.#perIp.get(ip) ?? 0;
    if (this.closing) return false;
    if (open >= this.#options.maxConnectionsPerIp) {
      log.warn("connection refused", { listener: this.#options.name, ip, reason: "maxConnectionsPerIp", open });
      return false;
    }
    this.#perIp.set(ip, open + 1);
    return true;
  }

  /** An admitted connection went away before it was served (an implicit-TLS handshake that failed). */
  release(ip: string): void {
    const n = (this.#perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, n);
  }

  /** Runs the protocol handler on an admitted connection, and closes it when the handler returns. */
  serve(conn: FramedConnection, ip: string): void {
    const name = this.#options.name;
    this.open.add(conn);
    this.total++;
    const started = Date.now();
    log.info("connect", { listener: name, ip, port: conn.remotePort, tls: conn.tls?.protocol });
    count("postern_sessions_total", { listener: name });
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      this.open.delete(conn);
      this.release(ip);
      log.debug("disconnect", { listener: name, ip, seconds: (Date.now() - started) / 1000 });
    };
    conn.onClose(done);
    this.#options
      .handler(conn)
      .catch((e) => log.error("connection handler failed", { listener: name, error: String(e?.stack ?? e) }))
      .finally(() => {
        conn.close();
        done();
      });
  }

  /** Interrupts every session's pending read so its protocol can say goodbye, and destroys the rest after `graceMs`. */
  async stop(graceMs: number): Promise<void> {
    this.closing = true;
    for (const conn of this.open) conn.interrupt("shutdown");
    const deadline = Date.now() + graceMs;
    while (this.open.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const conn of this.open) conn.destroy();
  }

  /**
   * The listener seen from outside. `close` stops accepting with `stopAccepting` (settled once the server is
   * closed), lets the sessions end (`stop`), then waits for it.
   */
  listener(address: { host: string; port: number }, stopAccepting: () => Promise<void>): Listener {
    const { open } = this;
    const total = () => this.total;
    const close = async (graceMs: number) => {
      this.closing = true;
      const stopped = stopAccepting();
      await this.stop(graceMs);
      await stopped;
    };
    return {
      name: this.#options.name,
      address: () => address,
      get openConnections() {
        return open.size;
      },
      get totalConnections() {
        return total();
      },
      close,
    };
  }
}
