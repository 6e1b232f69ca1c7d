/**
 * A running Postern: the store, the protocol listeners and the HTTP API, started from one config.
 * `postern serve` and embedding programs both come through here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createApp } from "./api/app.ts";
import { checkDomain, domainRecords } from "./cli/dns.ts";
import { AuthThrottle } from "./auth/throttle.ts";
import { type DeliveredMessage, Deliverer } from "./deliver/deliverer.ts";
import { Directory } from "./deliver/directory.ts";
import { createResolver } from "./net/dns.ts";
import type { Config, ListenerName } from "./config/schema.ts";
import { type HttpServer, serveHttp } from "./net/http.ts";
import { serveHttps } from "./net/https.ts";
import { listen, type Listener } from "./net/listener.ts";
import { log } from "./util/log.ts";
import { protocolFor, type ServerContext } from "./protocols.ts";
import { createDkimSigner, createKeyring, keyForHost } from "./forward/dkim.ts";
import { Srs } from "./forward/srs.ts";
import { storeGreylist, storeRateCounter } from "./backends/policy-state.ts";
import { buildPipeline } from "./policy/build.ts";
import type { HookModule } from "./policy/hooks.ts";
import { QueueRunner } from "./queue/runner.ts";
import { SUMMARY_VERSION } from "./mime/summary.ts";
import { Store } from "./store/store.ts";
import { VERSION } from "./util/version.ts";
import { type CertificateManager, createCertificateManager } from "./tls/certificates.ts";

export interface Postern {
  readonly config: Config;
  readonly store: Store;
  /** Bound addresses, by listener name (port 0 in config becomes the real port here). */
  readonly addresses: Partial<Record<ListenerName, { host: string; port: number }>>;
  /** Re-reads the certificate files and orders an ACME certificate if one is due (SIGHUP). */
  reloadCertificates(): Promise<void>;
  stop(graceMs?: number): Promise<void>;
}

/** What an embedding program adds to the config: code rather than settings. */
export interface RuntimeOptions {
  /**
   * One of several processes serving the same config (`postern serve --workers N`): every
   * listener shares its port with the others (SO_REUSEPORT), on the ports given here for those
   * configured as 0. Only the first process (`primary`) serves the HTTP API and runs the
   * background reindex.
   */
  cluster?: { primary: boolean; ports?: Partial<Record<ListenerName, number>> };
  /** Policy hook functions, run after the hooks named in `policy.hooks`. */
  hooks?: readonly HookModule[];
  /** Called after each accepted message is committed (see `DeliveredMessage`). */
  onMessage?: (message: DeliveredMessage) => void | Promise<void>;
}

export async function startPostern(config: Config, runtime: RuntimeOptions = {}): Promise<Postern> {
  const startedAt = Date.now();
  const store = await Store.open(config.database);
  const listeners: Listener[] = [];
  let http: HttpServer | undefined;
  let https: HttpServer | undefined;
  let queueRunner: QueueRunner | undefined;
  let certificates: CertificateManager | undefined;
  try {
    const migrations = await store.migrate();
    if (migrations.applied.length) log.info("applied migrations", { tags: migrations.applied.join(",") });

    certificates = await createCertificateManager(config);
    const secureContext = certificates.current;
    // SRS addresses live under our host name: bounces to them come back to this server.
    const srs = config.srs.secret ? new Srs({ secret: config.srs.secret, domain: config.hostname }) : undefined;
    const directory = new Directory(store, {
      srs,
      srsDomain: config.hostname,
      separator: config.delivery.recipientDelimiter,
      hostname: config.hostname,
      postmaster: config.postmaster,
      abuse: config.abuse,
      onDisabled: config.aliases.onDisabled,
    });
    const resolve = createResolver(config.dns.servers, {
      timeoutMs: config.dns.timeout * 1000,
      attempts: config.dns.attempts,
    });
    // User-chosen HTTP targets (webhooks, JMAP push): private addresses only where allowed, names through
    // dns.servers when set, or the system's lookup (which also reads /etc/hosts).
    const outbound = {
      allowPrivateTargets: config.outbound.allowPrivateTargets,
      resolve: config.dns.servers.length ? resolve : undefined,
    };
    const keyring = createKeyring(config.dkim, config.dataDir);
    const arcKey = () => {
      const key = keyForHost(keyring(), config.hostname);
      return key ? { signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey } : undefined;
    };
    const deliverer = new Deliverer(store, directory, {
      hostname: config.hostname,
      resolve,
      srs,
      arcKey,
      dmarcEnforce: config.policy.dmarc.enforce,
      // Called only after a delivery, by which time the runner exists.
      onQueued: () => runner.wake(),
      onDelivered: runtime.onMessage,
      sieve: { separator: config.delivery.recipientDelimiter, globalDir: config.sieve.globalDir },
    });
    const runner = new QueueRunner({
      store,
      deliverer,
      hostname: config.hostname,
      resolve,
      transport: config.delivery.transport,
      relayHost: config.delivery.relayHost,
      relayAuth: config.delivery.relayAuth,
      requireTls: config.delivery.requireTls,
      maxAgeMs: config.delivery.maxAge * 1000,
      delayWarningMs: config.delivery.delayWarning * 1000,
      retryDelayMs: config.delivery.retryDelay * 1000,
      mxPort: config.delivery.mxPort,
      sign: createDkimSigner(keyring),
      srs,
      webhooks: {
        secret: config.webhooks.secret,
        ca: config.webhooks.caFile ? readFileSync(config.webhooks.caFile, "utf8") : undefined,
        timeoutMs: config.webhooks.timeout * 1000,
        allowHttp: config.webhooks.allowHttp,
        outbound,
      },
    });
    queueRunner = runner;
    const context: ServerContext = {
      config,
      store,
      secureContext,
      directory,
      deliverer,
      authThrottle: new AuthThrottle({
        threshold: config.limits.authFailures,
        counters: store.policy,
        ban: {
          failures: config.auth.ban.failures,
          durationMs: config.auth.ban.duration * 1000,
          allow: config.auth.ban.allow,
        },
      }),
      policy: buildPipeline(config, resolve, storeGreylist(store), storeRateCounter(store), runtime.hooks),
    };
    const addresses: Postern["addresses"] = {};

    for (const name of Object.keys(config.listeners) as ListenerName[]) {
      const settings = config.listeners[name];
      if (settings === false || name === "http" || name === "https") continue;
      const protocol = protocolFor(name);
      if (!protocol) {
        log.warn("listener not started: its protocol is not implemented yet", { listener: name });
        continue;
      }
      const listener = await listen({
        name,
        host: settings.host,
        port: runtime.cluster?.ports?.[name] ?? settings.port,
        reusePort: runtime.cluster !== undefined,
        tls: protocol.implicitTls ? "implicit" : "none",
        secureContext,
        maxConnectionsPerIp: config.limits.connectionsPerIp,
        idleTimeoutMs: config.limits.commandTimeout * 1000,
        refusalLine: protocol.refusalLine,
        handler: protocol.handler(context, name),
      });
      listeners.push(listener);
      addresses[name] = listener.address();
      log.info("listening", { listener: name, address: `${listener.address().host}:${listener.address().port}` });
    }

    // The HTTP API runs in the primary only: it is light next to the mail protocols, and Deno
    // shares an HTTP port only with an unstable flag.
    const { http: httpSettings, https: httpsSettings } = config.listeners;
    if ((httpSettings !== false || httpsSettings !== false) && runtime.cluster?.primary !== false) {
      const app = createApp({
        version: VERSION,
        startedAt,
        store,
        adminToken: config.api.adminToken,
        // metrics.requireToken: by default whenever there is an admin token (src/config/schema.ts says why).
        metricsToken: config.metrics.requireToken === false ? undefined : config.api.adminToken,
        allowHttpWebhooks: config.webhooks.allowHttp,
        outbound,
        wakeQueue: () => queueRunner?.wake(),
        throttle: context.authThrottle,
        deliverer: context.deliverer,
        trustedProxies: config.api.trustedProxies,
        spoolDir: join(config.dataDir, "spool"),
        dnsRecords: (domain) => domainRecords(config, domain, []),
        adminConsole: {
          dataDir: config.dataDir,
          configuredDkim: config.dkim,
          dnsCheck: (domain) => checkDomain(config, domain),
        },
        wellKnown: {
          hostname: config.hostname,
          mtaSts: config.mtaSts,
          listeners: addresses,
          serves: async (domain) => (await store.domains.get(domain))?.kind === "mailbox",
          acmeChallenge: certificates.challenge,
        },
        metrics: () => listeners.map((l) => ({ name: l.name, open: l.openConnections, total: l.totalConnections })),
      });
      if (httpSettings !== false) {
        http = await serveHttp({ host: httpSettings.host, port: httpSettings.port, fetch: app.fetch });
        addresses.http = { host: httpSettings.host, port: http.port };
        log.info("listening", { listener: "http", address: `${httpSettings.host}:${http.port}` });
      }
      if (httpsSettings !== false) {
        https = await serveHttps({
          host: httpsSettings.host,
          port: httpsSettings.port,
          secureContext: certificates.current,
          fetch: app.fetch,
          alpnChallenge: certificates.alpnChallenge,
          alpnPending: certificates.alpnPending,
        });
        addresses.https = { host: httpsSettings.host, port: https.port };
        log.info("listening", { listener: "https", address: `${httpsSettings.host}:${https.port}` });
      }
      // Challenges are answered from here on: HTTP-01 on the HTTP listener, TLS-ALPN-01 on the HTTPS one.
      const answeredOn = certificates.challengeType === "tls-alpn-01" ? httpsSettings : httpSettings;
      if (answeredOn !== false) certificates.startAcme();
      else if (config.tls.acme !== false) {
        const needs = certificates.challengeType === "tls-alpn-01" ? "HTTPS" : "HTTP";
        log.warn(`tls.acme needs the ${needs} listener for its challenges; no certificate is ordered`);
      }
    } else if (config.tls.acme !== false && runtime.cluster?.primary !== false) {
      log.warn("tls.acme needs the HTTP or HTTPS listener for its challenges; no certificate is ordered");
    }

    queueRunner.start();
    // Other processes on the database (workers, other servers, CLI commands) wake IDLE and push too.
    store.watchOtherProcesses();
    store.checkpointInBackground();
    const reindexing = new AbortController();
    const reindexed = runtime.cluster?.primary === false
      ? Promise.resolve()
      : reindexInBackground(store, reindexing.signal);
    return {
      config,
      store,
      addresses,
      reloadCertificates: () => certificates!.reload(),
      async stop(graceMs = 5000) {
        certificates?.stop();
        reindexing.abort();
        await Promise.all([
          ...listeners.map((l) => l.close(graceMs)),
          http?.close(),
          https?.close(),
          queueRunner?.stop(),
          reindexed,
        ]);
        // Another process on the database pushes JMAP changes from now on, without waiting for the lease to expire.
        await store.pushSubscriptions.release(store.instanceId)
          .catch((e) => log.warn("JMAP push lease not released", { error: e }));
        log.info("store statistics", { ...store.stats() });
        await store.stopCheckpoints();
        store.close();
      },
    };
  } catch (e) {
    certificates?.stop();
    await Promise.allSettled([...listeners.map((l) => l.close(0)), http?.close(), https?.close(), queueRunner?.stop()]);
    store.close();
    throw e;
  }
}

/**
 * Recomputes, batch by batch while the server runs, the summaries that an older build stored
 * (`postern reindex` does the same in the foreground). Never rejects: a failure is logged, and the
 * rest waits for the next start or the command. Stops between batches once `signal` is aborted.
 */
async function reindexInBackground(store: Store, signal: AbortSignal): Promise<void> {
  try {
    const stale = await store.summaries.stale();
    if (stale === 0 || signal.aborted) return;
    const started = Date.now();
    log.info("reindexing message summaries", { stale, version: SUMMARY_VERSION });
    // Let the listeners' first requests run before the first batch.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const result = await store.summaries.reindex({ signal });
    const fields = { scanned: result.scanned, updated: result.updated, ms: Date.now() - started };
    if (result.complete) log.info("reindexed message summaries", fields);
    else log.info("reindexing stopped; it continues at the next start", fields);
  } catch (e) {
    log.error("reindexing message summaries failed; run `postern reindex`", { error: e });
  }
}
