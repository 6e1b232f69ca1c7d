/**
 * Serving a fetch handler (the Hono app) on the runtime's own HTTP server: Bun.serve on Bun,
 * Deno.serve on Deno. The one place HTTP touches a runtime API.
 */
export interface HttpServer {
  readonly port: number;
  close(): Promise<void>;
}

type Fetch = (request: Request) => Response | Promise<Response>;

interface BunLike {
  serve(options: { hostname: string; port: number; fetch: Fetch; maxRequestBodySize?: number }): {
    port: number;
    stop(closeActive?: boolean): Promise<void> | void;
  };
}

interface DenoLike {
  serve(
    options: { hostname: string; port: number; onListen?: () => void; signal?: AbortSignal },
    handler: Fetch,
  ): { addr: { port: number }; finished: Promise<void>; shutdown(): Promise<void> };
}

export async function serveHttp(options: { host: string; port: number; fetch: Fetch }): Promise<HttpServer> {
  const g = globalThis as { Bun?: BunLike; Deno?: DenoLike };
  if (g.Bun) {
    const server = g.Bun.serve({ hostname: options.host, port: options.port, fetch: options.fetch });
    return {
      port: server.port,
      close: async () => {
        await server.stop(true);
      },
    };
  }
  if (g.Deno) {
    const server = g.Deno.serve({ hostname: options.host, port: options.port, onListen: () => {} }, options.fetch);
    return {
      port: server.addr.port,
      close: () => server.shutdown(),
    };
  }
  throw new Error("Postern's HTTP listener needs Bun or Deno");
}
