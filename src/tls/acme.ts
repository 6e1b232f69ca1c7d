/**
 * Certificates from an ACME CA (RFC 8555) through the `acme-client` library: one account key kept
 * in the state directory, a new P-256 key for each certificate, and the challenges answered by
 * whoever serves `challenges`: HTTP-01 (RFC 8555 §8.3) at `/.well-known/acme-challenge/<token>`,
 * or TLS-ALPN-01 (RFC 8737) with the challenge certificate on the HTTPS listener.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { Agent } from "node:https";
import { join } from "node:path";
import type { CertificatePem } from "../net/certificate.ts";
import { log } from "../util/log.ts";

export interface AcmeSettings {
  directory: string;
  email?: string;
  names: readonly string[];
  /** PEM text of CAs to trust for the directory's HTTPS. */
  ca?: string;
  challenge: ChallengeType;
}

export type ChallengeType = "http-01" | "tls-alpn-01";

/** The challenges being validated now, for the listeners that answer them. */
export interface PendingChallenges {
  /** HTTP-01: token → key authorization (RFC 8555 §8.1). */
  http: Map<string, string>;
  /** TLS-ALPN-01: the name validated → its challenge certificate (RFC 8737 §3). */
  alpn: Map<string, CertificatePem>;
}

/** Where the ACME account key and the issued certificate live (`<dataDir>/tls/acme`). */
export function acmePaths(dir: string) {
  return { accountKey: join(dir, "account.key"), cert: join(dir, "cert.pem"), key: join(dir, "key.pem") };
}

/** Writes `text` to `path` whole or not at all (a reader never sees half a file). */
function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = `${path}.tmp`;
  if (existsSync(tmp)) chmodSync(tmp, mode);
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, path);
}

/**
 * Orders a certificate for `settings.names`, answering each challenge of `settings.challenge` through
 * `challenges`, and stores it with its key in `dir`.
 */
export async function issueCertificate(
  settings: AcmeSettings,
  dir: string,
  challenges: PendingChallenges,
): Promise<CertificatePem> {
  const acme = await import("acme-client");
  if (settings.ca) acme.axios.defaults.httpsAgent = new Agent({ ca: settings.ca });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const paths = acmePaths(dir);
  if (!existsSync(paths.accountKey)) {
    writeAtomic(paths.accountKey, (await acme.crypto.createPrivateEcdsaKey()).toString(), 0o600);
  }
  const client = new acme.Client({ directoryUrl: settings.directory, accountKey: readFileSync(paths.accountKey) });
  const key = await acme.crypto.createPrivateEcdsaKey();
  const [, csr] = await acme.crypto.createCsr({ commonName: settings.names[0], altNames: [...settings.names] }, key);
  log.info("acme: ordering a certificate", { names: settings.names.join(","), directory: settings.directory });
  const cert = await client.auto({
    csr,
    email: settings.email,
    termsOfServiceAgreed: true,
    challengePriority: [settings.challenge],
    // The CA checks the challenge itself; the library's own pre-check would go through public DNS to port 80.
    skipChallengeVerification: true,
    challengeCreateFn: async (authz, challenge, keyAuthorization) => {
      if (challenge.type === "http-01") return void challenges.http.set(challenge.token, keyAuthorization);
      // RFC 8737 §3: a certificate for the name with the key authorization's digest in acmeIdentifier.
      const [alpnKey, alpnCert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
      challenges.alpn.set(authz.identifier.value.toLowerCase(), { cert: alpnCert.toString(), key: alpnKey.toString() });
    },
    challengeRemoveFn: async (authz, challenge) => {
      if (challenge.type === "http-01") challenges.http.delete(challenge.token);
      else challenges.alpn.delete(authz.identifier.value.toLowerCase());
    },
  });
  // The key first: a process polling the files sees the new pair once the certificate follows it.
  writeAtomic(paths.key, key.toString(), 0o600);
  writeAtomic(paths.cert, cert, 0o644);
  return { cert, key: key.toString() };
}
