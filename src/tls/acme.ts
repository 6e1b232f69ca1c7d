/**
 * Certificates from an ACME CA (RFC 8555) through the `acme-client` library: one account key kept
 * in the state directory, a new P-256 key for each certificate, HTTP-01 challenges (RFC 8555 §8.3)
 * answered by whoever serves `/.well-known/acme-challenge/<token>` from `challenges`.
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
 * Orders a certificate for `settings.names`, answering each HTTP-01 challenge through `challenges`
 * (token → key authorization, RFC 8555 §8.1), and stores it with its key in `dir`.
 */
export async function issueCertificate(
  settings: AcmeSettings,
  dir: string,
  challenges: Map<string, string>,
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
    challengePriority: ["http-01"],
    // The CA checks the challenge itself; the library's own pre-check would go through public DNS to port 80.
    skipChallengeVerification: true,
    challengeCreateFn: async (_authz, challenge, keyAuthorization) => {
      challenges.set(challenge.token, keyAuthorization);
    },
    challengeRemoveFn: async (_authz, challenge) => {
      challenges.delete(challenge.token);
    },
  });
  // The key first: a process polling the files sees the new pair once the certificate follows it.
  writeAtomic(paths.key, key.toString(), 0o600);
  writeAtomic(paths.cert, cert, 0o644);
  return { cert, key: key.toString() };
}
