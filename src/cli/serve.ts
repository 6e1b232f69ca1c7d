import { loadConfig } from "../config/load.ts";
import { log } from "../util/log.ts";
import { startPostern } from "../postern.ts";
import { VERSION } from "../util/version.ts";
import { parse, UsageError } from "./args.ts";

export const SERVE_USAGE = "Usage: postern serve [--config FILE]";

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, SERVE_USAGE);
  if (positionals.length) throw new UsageError("serve takes no arguments", SERVE_USAGE);
  const config = loadConfig({ file: values.config });
  const postern = await startPostern(config);
  log.info("postern started", {
    version: VERSION,
    hostname: config.hostname,
    database: config.database.url.startsWith("file:") ? config.database.url : "remote",
  });
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info("stopping", { signal });
      process.off("SIGINT", onInt);
      process.off("SIGTERM", onTerm);
      postern.stop().then(resolve, (e) => {
        log.error("stop failed", { error: e });
        resolve();
      });
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
  });
  log.info("postern stopped");
  return 0;
}
