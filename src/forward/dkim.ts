/**
 * DKIM keys and signing of mail leaving for the outside world (RFC 6376, Ed25519 RFC 8463).
 * Keys come from `dkim` in the config (domain → selector and PEM file) and from
 * `<dataDir>/dkim/<domain>.<selector>.key`, where `postern dkim generate` writes them.
 */
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { concatBytes } from "../util/bytes.ts";
import { dkimDirStamp, dkimRecord, listDkimKeyFiles } from "./dkim-keys.ts";
import { validName } from "../util/domain-name.ts";
import { parseAddressList } from "../mime/address-list.ts";
import { headerValue, parseHeaderFields, splitHeaderBody } from "../mime/header.ts";

export interface DkimKey {
  domain: string;
  selector: string;
  privateKey: string;
}

/** The keys of the config and of the data directory, by lower-case domain. */
export function loadDkimKeys(
  config: Record<string, { selector: string; privateKey: string }>,
  dataDir: string,
): Map<string, DkimKey> {
  const keys = new Map<string, DkimKey>();
  // Of several keys for a domain, the active one signs (dkim-keys.ts: rotation).
  for (const file of listDkimKeyFiles(dataDir)) {
    if (!file.active) continue;
    keys.set(file.domain, {
      domain: file.domain,
      selector: file.selector,
      privateKey: readFileSync(file.path, "utf8"),
    });
  }
  for (const [domain, { selector, privateKey }] of Object.entries(config)) {
    keys.set(domain.toLowerCase(), {
      domain: domain.toLowerCase(),
      selector,
      privateKey: readFileSync(privateKey, "utf8"),
    });
  }
  return keys;
}

/** The current keys, re-read whenever `<dataDir>/dkim` changes. */
export function createKeyring(
  config: Record<string, { selector: string; privateKey: string }>,
  dataDir: string,
): () => Map<string, DkimKey> {
  let keys = loadDkimKeys(config, dataDir);
  let seen = dirStamp(dataDir);
  return () => {
    const stamp = dirStamp(dataDir);
    if (stamp !== seen) {
      keys = loadDkimKeys(config, dataDir);
      seen = stamp;
    }
    return keys;
  };
}

/** The key for `hostname`'s domain or a parent of it (mx.example.com → example.com), for ARC seals. */
export function keyForHost(keys: Map<string, DkimKey>, hostname: string): DkimKey | undefined {
  const labels = hostname.toLowerCase().split(".");
  for (let i = 0; i < labels.length - 1; i++) {
    const key = keys.get(labels.slice(i).join("."));
    if (key) return key;
  }
  return undefined;
}

function dirStamp(dataDir: string): string {
  return dkimDirStamp(dataDir);
}

/** Creates a key for `domain` in the data directory; returns the DNS TXT record to publish. */
export function generateDkimKey(
  dataDir: string,
  domain: string,
  selector: string,
  algorithm: "rsa" | "ed25519",
): { path: string; name: string; record: string } {
  // Both become part of a file name: never anything but LDH labels (issue 18).
  domain = validName("domain name", domain);
  selector = validName("DKIM selector", selector);
  const pair = algorithm === "rsa"
    ? generateKeyPairSync("rsa", { modulusLength: 2048 })
    : generateKeyPairSync("ed25519");
  const dir = join(dataDir, "dkim");
  // Private keys are for the owner only, in a 0700 directory (as is the data directory, when this creates it).
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `${domain}.${selector}.key`);
  // `mode` applies only when a file is created: restrict a key being replaced before writing into it.
  if (existsSync(path)) chmodSync(path, 0o600);
  const pem = pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  writeFileSync(path, pem, { mode: 0o600 });
  return { path, name: `${selector}._domainkey.${domain}`, record: dkimRecord(pem) };
}

/** The domain a message should be signed for: its From: domain (for DMARC alignment), else the envelope sender's. */
function signingDomain(raw: Uint8Array, sender: string, keys: Map<string, DkimKey>): DkimKey | undefined {
  const fields = parseHeaderFields(raw.subarray(0, splitHeaderBody(raw).headerEnd));
  const from = headerValue(fields, "from");
  const author = from
    ? parseAddressList(from).flatMap((e) => ("group" in e ? e.addresses : [e]))[0]?.address
    : undefined;
  for (const address of [author, sender]) {
    const domain = address?.slice(address.lastIndexOf("@") + 1).toLowerCase();
    if (domain && keys.has(domain)) return keys.get(domain);
  }
  // Forwarded mail has an SRS sender under our host name: sign for its parent domain.
  const senderDomain = sender.slice(sender.lastIndexOf("@") + 1);
  return sender ? keyForHost(keys, senderDomain) : undefined;
}

/**
 * A signer for the queue: prepends a DKIM-Signature when we hold a key for the message's
 * domain. With `createKeyring`, a key made by `postern dkim generate` is used without a restart.
 */
export function createDkimSigner(keyring: () => Map<string, DkimKey>) {
  return async (raw: Uint8Array, sender: string): Promise<Uint8Array> => {
    const key = signingDomain(raw, sender, keyring());
    if (!key) return raw;
    const { dkimSign } = await import("mailauth");
    const result = await dkimSign(
      Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength),
      {
        canonicalization: "relaxed/relaxed",
        signatureData: [{ signingDomain: key.domain, selector: key.selector, privateKey: key.privateKey }],
      } as unknown as Parameters<typeof dkimSign>[1],
    );
    if (!result.signatures) return raw;
    return concatBytes([new TextEncoder().encode(result.signatures.replace(/\r?\n/g, "\r\n")), raw]);
  };
}
