/**
 * The server's certificate while it runs: configured files (`tls.cert`/`tls.key`), an ACME
 * certificate (`tls.acme`), or the self-signed one. New connections take `current()`; the files are
 * polled and re-read when they change (or at once on `reload()`, which `postern serve` calls on
 * SIGHUP), and an ACME certificate is renewed `renewBefore` seconds before it expires.
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SecureContext } from "node:tls";
import { ConfigError } from "../config/load.ts";
import type { Config } from "../config/schema.ts";
import { type CertificatePem, createSecureContext, loadOrCreateCertificate } from "../net/certificate.ts";
import { log } from "../util/log.ts";
import { acmePaths, type ChallengeType, issueCertificate, type PendingChallenges } from "./acme.ts";

/** How often the certificate files are checked for a change. */
const POLL_MS = 2000;
/** How often an ACME certificate's expiry is checked, and how soon a failed order is tried again. */
const CHECK_MS = 12 * 3600_000;
const RETRY_MS = 3600_000;

export interface CertificateManager {
  /** The context for a new connection. */
  current(): SecureContext;
  /** The key authorization for an HTTP-01 token being validated now (RFC 8555 §8.3). */
  challenge(token: string): string | undefined;
  /** `tls.acme.challenge`: which listener answers (HTTP for http-01, HTTPS for tls-alpn-01). */
  readonly challengeType: ChallengeType;
  /** TLS-ALPN-01 (RFC 8737): the challenge certificate's context for a name being validated now. */
  alpnChallenge(serverName: string): SecureContext | undefined;
  /** Whether a TLS-ALPN-01 validation is going on (the HTTPS listener reads ClientHellos only then). */
  alpnPending(): boolean;
  /** Orders or renews the ACME certificate when due, and from then on checks twice a day (the HTTP listener is up). */
  startAcme(): void;
  /** Re-reads the files now, and orders an ACME certificate if one is due. */
  reload(): Promise<void>;
  stop(): void;
}

/** Names, expiry and fingerprint of a PEM certificate (its first, the leaf). */
export function describeCertificate(pem: string): { names: string[]; notAfter: Date; fingerprint: string } {
  const x509 = new X509Certificate(pem);
  const names = (x509.subjectAltName ?? "").split(",").map((s) => s.trim())
    .filter((s) => s.startsWith("DNS:")).map((s) => s.slice(4).toLowerCase());
  return { names, notAfter: new Date(x509.validTo), fingerprint: x509.fingerprint256 };
}

export async function createCertificateManager(config: Config): Promise<CertificateManager> {
  const { tls } = config;
  const acme = tls.acme === false ? undefined : tls.acme;
  if (acme && (tls.cert || tls.key)) {
    throw new ConfigError("tls.acme", undefined, "tls.acme and tls.cert/tls.key exclude each other", "config");
  }
  // RFC 8737 §3: the challenge certificate's acmeIdentifier extension is critical, and Deno's TLS (rustls) refuses to
  // present a certificate with a critical extension it does not know (seen with Deno 2.9).
  if (acme?.challenge === "tls-alpn-01" && "Deno" in globalThis) {
    throw new ConfigError(
      "tls.acme.challenge",
      "tls-alpn-01",
      "Deno cannot present the TLS-ALPN-01 challenge certificate; use http-01, or run on Bun (the binary)",
      "config",
    );
  }
  const names = acme?.names ?? [config.hostname];
  const acmeDir = join(config.dataDir, "tls", "acme");
  // The files watched: the configured pair, or where ACME certificates are kept.
  const files = acme ? acmePaths(acmeDir) : tls.cert && tls.key ? { cert: tls.cert, key: tls.key } : undefined;
  const contextOf = (pem: CertificatePem) => {
    // Checked here: Deno's TLS takes a mismatched pair and fails each handshake later.
    if (!new X509Certificate(pem.cert).checkPrivateKey(createPrivateKey(pem.key))) {
      throw new Error("the private key does not belong to the certificate");
    }
    return createSecureContext(pem, { ciphers: tls.ciphers });
  };

  let pem: CertificatePem;
  if (files && existsSync(files.cert) && existsSync(files.key)) {
    pem = { cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
  } else {
    // No ACME certificate yet: the self-signed one serves until the first is issued.
    pem = await loadOrCreateCertificate({
      hostname: config.hostname,
      dataDir: config.dataDir,
      listenHosts: Object.values(config.listeners).flatMap((l) => (l ? [l.host] : [])),
      certFile: tls.cert,
      keyFile: tls.key,
    });
  }
  let context = contextOf(pem);
  let stamp = files ? fileStamp(files) : "";
  let acmeCert = acme && files && existsSync(files.cert) ? pem.cert : undefined;

  const use = (next: CertificatePem, why: string) => {
    context = contextOf(next);
    pem = next;
    const info = describeCertificate(next.cert);
    log.info("certificate loaded", {
      reason: why,
      names: info.names.join(","),
      notAfter: info.notAfter.toISOString(),
      sha256: info.fingerprint,
    });
  };

  /** Takes the files when they changed; a half-written or mismatched pair is tried again at the next poll. */
  const readFiles = (why: string) => {
    if (!files) return;
    const now = fileStamp(files);
    if (now === stamp || now === "") return;
    try {
      const next = { cert: readFileSync(files.cert, "utf8"), key: readFileSync(files.key, "utf8") };
      use(next, why);
      if (acme) acmeCert = next.cert;
      stamp = now;
    } catch (e) {
      log.warn("certificate files not loaded; keeping the current certificate", { error: e, cert: files.cert });
    }
  };
  const poller = files ? setInterval(() => readFiles("file changed"), POLL_MS) : undefined;
  (poller as { unref?: () => void } | undefined)?.unref?.();

  const challenges: PendingChallenges = { http: new Map(), alpn: new Map() };
  const alpnContexts = new Map<string, SecureContext>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  /** Only the process that serves HTTP (the primary) orders certificates; the others read the files. */
  let ordering = false;

  const due = (): string | null => {
    if (!acme || !acmeCert) return "no certificate yet";
    const info = describeCertificate(acmeCert);
    const missing = names.filter((n) => !info.names.includes(n.toLowerCase()));
    if (missing.length) return `not for ${missing.join(", ")}`;
    if (info.notAfter.getTime() - Date.now() < acme.renewBefore * 1000) return `expires ${info.notAfter.toISOString()}`;
    return null;
  };

  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void check(), ms);
    (timer as { unref?: () => void }).unref?.();
  };

  const check = (): Promise<void> => {
    if (!acme || !ordering) return Promise.resolve();
    running ??= (async () => {
      const reason = due();
      if (!reason) return schedule(CHECK_MS);
      try {
        const ca = acme.caFile ? readFileSync(acme.caFile, "utf8") : undefined;
        const issued = await issueCertificate(
          { directory: acme.directory, email: acme.email, names, ca, challenge: acme.challenge },
          acmeDir,
          challenges,
        );
        acmeCert = issued.cert;
        if (files) stamp = fileStamp(files);
        use(issued, `acme: ${reason}`);
        log.info("acme: certificate issued", { names: names.join(",") });
        schedule(CHECK_MS);
      } catch (e) {
        log.error("acme: ordering a certificate failed; trying again in an hour", { error: e, reason });
        schedule(RETRY_MS);
      }
    })().finally(() => (running = undefined));
    return running;
  };

  return {
    current: () => context,
    challenge: (token) => challenges.http.get(token),
    challengeType: acme?.challenge ?? "http-01",
    alpnChallenge(serverName) {
      const pem = challenges.alpn.get(serverName.toLowerCase());
      if (!pem) return undefined;
      let context = alpnContexts.get(pem.cert);
      if (!context) {
        alpnContexts.clear();
        context = createSecureContext(pem);
        alpnContexts.set(pem.cert, context);
      }
      return context;
    },
    alpnPending: () => challenges.alpn.size > 0,
    startAcme() {
      ordering = true;
      void check();
    },
    async reload() {
      readFiles("reload");
      await check();
    },
    stop() {
      stopped = true;
      clearInterval(poller);
      clearTimeout(timer);
    },
  };
}

/** Changes when either file is replaced or rewritten; "" while one is missing. */
function fileStamp(files: { cert: string; key: string }): string {
  try {
    return [files.cert, files.key].map((f) => {
      const s = statSync(f);
      return `${s.ino}:${s.size}:${s.mtimeMs}`;
    }).join("/");
  } catch {
    return "";
  }
}
