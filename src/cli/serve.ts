import { availableParallelism } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../config/load.ts";
import { dnsStats } from "../net/dns-stats.ts";
import { ListenError } from "../net/listen-error.ts";
import { localActivity } from "../util/activity.ts";
import { readPeerSnapshotsFrom, writeSnapshotsTo } from "../util/counters.ts";
import { configureLog, log } from "../util/log.ts";
import { startPostern } from "../postern.ts";
import { VERSION } from "../util/version.ts";
import { parse, UsageError } from "./args.ts";
import { formatPorts, onPrimaryGone, parsePorts, selfCommand, Workers } from "./workers.ts";

export const SERVE_USAGE = "Usage: postern serve [--config FILE] [--workers N]";

export async function serveCommand(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    // --worker and --listen-ports are how the primary starts its workers (cli/workers.ts).
    { workers: { type: "string" }, worker: { type: "string" }, "listen-ports": { type: "string" } },
    SERVE_USAGE,
  );
  if (positionals.length) throw new UsageError("serve takes no arguments", SERVE_USAGE);
  const workers = values.workers === undefined ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 256) {
    throw new UsageError(`--workers must be a whole number from 1 to 256, not ${values.workers}`, SERVE_USAGE);
  }
  const worker = values.worker === undefined ? 0 : Number(values.worker);
  const config = loadConfig({ file: values.config });
  configureLog(config.log);
  const cluster = workers > 1 || worker > 0
    ? { primary: worker === 0, ports: values["listen-ports"] ? parsePorts(values["listen-ports"]) : undefined }
    : undefined;
  // /metrics is served by the primary alone: workers leave it their counters (util/counters.ts).
  const runDir = join(config.dataDir, "run");
  if (worker === 0) readPeerSnapshotsFrom(runDir);
  // DNS lookups are counted where they are made, and the recent activity kept where it happened (issue 22):
  // a worker's travel with its counters.
  const stopSnapshots = worker > 0
    ? writeSnapshotsTo(runDir, 5000, () => ({ dns: dnsStats.counts(), activity: localActivity() }))
    : undefined;
  let postern;
  try {
    postern = await startPostern(config, { cluster });
  } catch (e) {
    // A busy or forbidden port: the listener, the address and the setting, not a stack trace.
    if (!(e instanceof ListenError)) throw e;
    console.error(`postern: ${e.message}`);
    return 2;
  }

  let pool: Workers | undefined;
  if (worker === 0) {
    log.info("postern started", {
      version: VERSION,
      hostname: config.hostname,
      database: config.database.url.startsWith("file:") ? config.database.url : "remote",
      workers,
    });
    if (workers > 1) {
      const ports = formatPorts(postern.addresses);
      const configArgs = values.config ? ["--config", values.config] : [];
      pool = new Workers((index) =>
        selfCommand([
          "serve",
          ...configArgs,
          "--workers",
          String(workers),
          "--worker",
          String(index),
          "--listen-ports",
          ports,
        ])
      );
      pool.start(workers);
    }
  }
  let unwatch: (() => void) | undefined;
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info("stopping", { signal, ...(worker ? { worker } : {}) });
      // The handlers stay until the end: a second signal (Ctrl-C, then the primary's SIGTERM to its
      // workers) must not kill a process that is still finishing its writes.
      const done = () => {
        process.off("SIGINT", onInt);
        process.off("SIGTERM", onTerm);
        process.off("SIGHUP", onHup);
        resolve();
      };
      Promise.all([pool?.stop(5000), postern.stop()]).then(done, (e) => {
        log.error("stop failed", { error: e });
        done();
      });
    };
    const onHup = () => {
      log.info("reloading certificates", { signal: "SIGHUP" });
      pool?.signal("SIGHUP");
      postern.reloadCertificates().catch((e) => log.error("reloading certificates failed", { error: e }));
    };
    const onInt = () => stop("SIGINT");
    const onTerm = () => stop("SIGTERM");
    process.on("SIGINT", onInt);
    process.on("SIGTERM", onTerm);
    // SIGHUP: certificate files re-read now (they are also polled), an ACME certificate ordered if due.
    process.on("SIGHUP", onHup);
    if (worker > 0) unwatch = onPrimaryGone(() => stop("primary gone"));
  });
  unwatch?.();
  stopSnapshots?.();
  if (worker === 0) log.info("postern stopped");
  return 0;
}
