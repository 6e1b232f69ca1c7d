/**
 * Serving a fetch handler (the Hono app) on the runtime's own HTTP server: Bun.serve on Bun,
 * Deno.serve on Deno. The one place HTTP touches a runtime API.
 */
import { normalizeIp } from "./connection.ts";
import { bindErrorCode, ListenError } from "./listen-error.ts";

export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * The peer's address goes to the app as its environment (Hono's `c.env`), for src/api/client.ts; its port lets
 * the HTTPS listener (src/net/https.ts) name the client behind its own loopback connection.
 */
export type Fetch = (
  request: Request,
  env: { remoteAddress: string; remotePort?: number },
) => Response | Promise<Response>;

interface BunLike {
  serve(options: {
    hostname: string;
    port: number;
    fetch: (
      request: Request,
      server: { requestIP(r: Request): { address: string; port: number } | null },
    ) => ReturnType<Fetch>;
  }): {
    port: number;
    stop(closeActive?: boolean): Promise<void> | void;
  };
}

interface DenoLike {
  serve(
    options: { hostname: string; port: number; onListen?: () => void; signal?: AbortSignal },
    handler: (request: Request, info: { remoteAddr: { hostname: string; port: number } }) => ReturnType<Fetch>,
  ): { addr: { port: number }; finished: Promise<void>; shutdown(): Promise<void> };
}

export async function serveHttp(options: { host: string; port: number; fetch: Fetch }): Promise<HttpServer> {
  try {
    return serveOn(options);
  } catch (e) {
    // A busy port says which listener and which setting (issue 20, item 9).
    const code = bindErrorCode(e);
    throw code ? new ListenError("http", options.host, options.port, code) : e;
  }
}

/** The runtime's HTTP server on `host:port` (0: a free port). */
export function serveOn(options: { host: string; port: number; fetch: Fetch }): HttpServer {
  const g = globalThis as { Bun?: BunLike; Deno?: DenoLike };
  if (g.Bun) {
    const server = g.Bun.serve({
      hostname: options.host,
      port: options.port,
      fetch: (request, server) => {
        const peer = server.requestIP(request);
        return options.fetch(request, { remoteAddress: normalizeIp(peer?.address ?? ""), remotePort: peer?.port });
      },
    });
    return {
      port: server.port,
      close: async () => {
        await server.stop(true);
      },
    };
  }
  if (g.Deno) {
    const server = g.Deno.serve(
      { hostname: options.host, port: options.port, onListen: () => {} },
      (request, info) =>
        options.fetch(request, {
          remoteAddress: normalizeIp(info.remoteAddr.hostname),
          remotePort: info.remoteAddr.port,
        }),
    );
    return {
      port: server.addr.port,
      close: () => server.shutdown(),
    };
  }
  throw new Error("Postern's HTTP listener needs Bun or Deno");
}
