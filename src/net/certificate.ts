/**
 * The TLS certificate: the configured `tls.cert`/`tls.key` files, or else a self-signed
 * certificate for `hostname`, generated once in TypeScript (no openssl binary) and kept in
 * `<dataDir>/tls/` so STARTTLS and implicit TLS work on a fresh install.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { X509Certificate } from "node:crypto";
import { isIP } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { createSecureContext as tlsSecureContext, type SecureContext } from "node:tls";
import { log } from "../util/log.ts";

export interface CertificatePem {
  cert: string;
  key: string;
}

export interface CertificateOptions {
  hostname: string;
  dataDir: string;
  certFile?: string;
  keyFile?: string;
  /** The listeners' hosts: the self-signed certificate names them too (a wildcard: this machine's addresses). */
  listenHosts?: readonly string[];
}

/** The names a self-signed certificate covers: `hostname`, localhost and every address a listener is reached at. */
export function selfSignedNames(
  hostname: string,
  listenHosts: readonly string[] = [],
): { dns: string[]; ips: string[] } {
  const dns = new Set([hostname.toLowerCase(), "localhost"]);
  const ips = new Set(["127.0.0.1", "::1"]);
  for (const host of listenHosts) {
    if (host === "0.0.0.0" || host === "::" || host === "") {
      for (const list of Object.values(networkInterfaces())) {
        for (const a of list ?? []) if (!a.address.startsWith("fe80:")) ips.add(a.address);
      }
    } else if (isIP(host)) ips.add(host);
    else dns.add(host.toLowerCase());
  }
  // A host name given as an address (hostname "192.0.2.1") goes in as an IP entry.
  const named = [...dns].filter((name) => !isIP(name));
  for (const name of dns) if (isIP(name)) ips.add(name);
  return { dns: named, ips: [...ips] };
}

/** Whether the certificate covers every one of `names` (an older one may name localhost alone). */
function covers(certPem: string, names: { dns: string[]; ips: string[] }): boolean {
  try {
    const cert = new X509Certificate(certPem);
    return names.dns.every((n) => cert.checkHost(n) !== undefined) &&
      names.ips.every((ip) => cert.checkIP(ip) !== undefined);
  } catch {
    return false;
  }
}

export async function loadOrCreateCertificate(options: CertificateOptions): Promise<CertificatePem> {
  if (options.certFile || options.keyFile) {
    if (!options.certFile || !options.keyFile) {
      throw new Error("tls.cert and tls.key must be set together");
    }
    return { cert: readPem(options.certFile, "tls.cert"), key: readPem(options.keyFile, "tls.key") };
  }
  const dir = join(options.dataDir, "tls");
  const certPath = join(dir, "selfsigned.crt");
  const keyPath = join(dir, "selfsigned.key");
  const names = selfSignedNames(options.hostname, options.listenHosts);
  if (existsSync(certPath) && existsSync(keyPath)) {
    const cert = readFileSync(certPath, "utf8");
    // Kept while it names the host name and the listeners' addresses; made again when they change.
    if (covers(cert, names)) return { cert, key: readFileSync(keyPath, "utf8") };
  }
  const pem = await createSelfSigned(options.hostname, names);
  // The private key is for the owner only; the directories made here (the data directory too, on a fresh install) are 0700.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // `mode` applies only when a file is created: restrict a key left by an earlier run before writing into it.
  if (existsSync(keyPath)) chmodSync(keyPath, 0o600);
  writeFileSync(keyPath, pem.key, { mode: 0o600 });
  writeFileSync(certPath, pem.cert);
  log.info("generated a self-signed certificate", {
    hostname: options.hostname,
    names: [...names.dns, ...names.ips].join(","),
    path: certPath,
  });
  return pem;
}

function readPem(path: string, key: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`${key}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * An ECDSA P-256 certificate valid for ten years, with `hostname` as CN and, as subjectAltNames,
 * `hostname` and `names` (RFC 6125 §6.4.4: clients check the SANs, not the CN).
 */
export async function createSelfSigned(
  hostname: string,
  names: { dns: string[]; ips: string[] } = { dns: [hostname], ips: [] },
): Promise<CertificatePem> {
  // @peculiar/x509 needs the reflect-metadata shim at import time; load both only when generating.
  await import("reflect-metadata");
  const x509 = await import("@peculiar/x509");
  const algorithm = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
  const keys = (await crypto.subtle.generateKey(algorithm, true, ["sign", "verify"])) as CryptoKeyPair;
  const notBefore = new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + 10 * 365 * 24 * 3600 * 1000);
  const serial = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0"));
  serial[0] = "01"; // keep it positive
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial.join(""),
    name: `CN=${hostname}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: algorithm,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([
        ...[...new Set([hostname, ...names.dns])].map((value) => ({ type: "dns" as const, value })),
        ...names.ips.map((value) => ({ type: "ip" as const, value })),
      ]),
    ],
  });
  const pkcs8 = new Uint8Array(await crypto.subtle.exportKey("pkcs8", keys.privateKey));
  return { cert: cert.toString("pem"), key: toPem(pkcs8, "PRIVATE KEY") };
}

function toPem(der: Uint8Array, label: string): string {
  const b64 = Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/**
 * The TLS 1.2 suites offered unless `tls.ciphers` says otherwise: ECDHE key exchange (forward
 * secrecy) with an AEAD cipher only, AES-GCM or ChaCha20-Poly1305, as RFC 9325 §4.2 recommends;
 * no CBC suite. TLS 1.3 suites (RFC 8446 §9.1) are all AEAD and stay as they are. On Deno, TLS is
 * rustls, whose TLS 1.2 suites are these AEAD ones whatever the list says.
 */
export const DEFAULT_TLS_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
].join(":");

export interface TlsOptions {
  /** OpenSSL cipher list for TLS 1.2 (`tls.ciphers`); default `DEFAULT_TLS_CIPHERS`. */
  ciphers?: string;
}

export function createSecureContext(pem: CertificatePem, options: TlsOptions = {}): SecureContext {
  const ciphers = options.ciphers ?? DEFAULT_TLS_CIPHERS;
  try {
    return tlsSecureContext({ cert: pem.cert, key: pem.key, minVersion: "TLSv1.2", ciphers, honorCipherOrder: true });
  } catch (e) {
    if (options.ciphers === undefined) throw e;
    throw new Error(`tls.ciphers: ${JSON.stringify(ciphers)} cannot be used: ${(e as Error).message}`);
  }
}

/**
 * A TLS context, or a function giving the current one: with a function, certificates are replaced
 * without a restart (each new connection and STARTTLS takes the context current at that moment).
 */
export type SecureContextSource = SecureContext | (() => SecureContext);

export function currentSecureContext(source: SecureContextSource): SecureContext {
  return typeof source === "function" ? source() : source;
}
