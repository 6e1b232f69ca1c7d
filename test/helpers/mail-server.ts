/**
 * The usual end-to-end fixture: a local DNS server, `postern serve` asking it, the domain
 * example.test and some accounts (and any other CLI set-up) made through the real CLI.
 */
import { join } from "node:path";
import { DnsServer } from "./dns-server.ts";
import { type ServerProcess, startServer } from "./server.ts";

export interface MailServer {
  server: ServerProcess;
  dns: DnsServer;
  /** The server's dataDir, for `readInbox`. */
  dataDir: string;
  stop(): Promise<void>;
}

export interface MailServerOptions {
  waitFor: string[];
  /** address → password, all at example.test */
  users: Record<string, string>;
  /** More CLI commands to run after the accounts exist, e.g. `["alias", "add", ...]`. */
  setup?: string[][];
  config?: Record<string, unknown>;
  /** More `serve` arguments, e.g. `["--workers", "2"]`. */
  args?: string[];
}

export async function startMailServer(options: MailServerOptions): Promise<MailServer> {
  const dns = await DnsServer.start();
  const server = await startServer({
    waitFor: options.waitFor,
    args: options.args,
    config: { ...options.config, dns: { servers: [`127.0.0.1:${dns.port}`] } },
  });
  const commands = [
    ["domain", "add", "example.test"],
    ...Object.entries(options.users).map(([address, password]) => ["user", "add", address, "--password", password]),
    ...(options.setup ?? []),
  ];
  for (const args of commands) {
    const result = await server.cli(args);
    if (result.code !== 0) throw new Error(`postern ${args.join(" ")}: ${result.stderr}`);
  }
  return {
    server,
    dns,
    dataDir: join(server.dir, "data"),
    async stop() {
      await server.stop();
      dns.close();
    },
  };
}
