/**
 * DKIM key files in `<dataDir>/dkim/` and which one signs (issue 20, item 9): a domain may hold
 * several keys, `<domain>.<selector>.key`, for rotation; `<domain>.active` names the selector in
 * use. A domain's only key signs without a marker; when a second is made, the one signing is
 * written down first, so the running server keeps signing with the key whose record is in DNS
 * until `postern dkim activate` names the new one. Without a marker (several keys from before
 * rotation) the oldest signs.
 */
import { createPublicKey } from "node:crypto";
import { existsSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface DkimKeyFile {
  domain: string;
  selector: string;
  path: string;
  /** This key signs the domain's mail. */
  active: boolean;
}

const KEY_FILE = /^(.+)\.([^.]+)\.key$/;

export function dkimDir(dataDir: string): string {
  return join(dataDir, "dkim");
}

/** Every key file, by domain (lower case), each marked active or not. */
export function listDkimKeyFiles(dataDir: string): DkimKeyFile[] {
  const dir = dkimDir(dataDir);
  if (!existsSync(dir)) return [];
  const byDomain = new Map<string, Array<{ selector: string; path: string; mtime: number }>>();
  for (const file of readdirSync(dir).sort()) {
    const m = KEY_FILE.exec(file);
    if (!m) continue;
    const domain = m[1]!.toLowerCase();
    const path = join(dir, file);
    byDomain.set(domain, [...(byDomain.get(domain) ?? []), { selector: m[2]!, path, mtime: statSync(path).mtimeMs }]);
  }
  const out: DkimKeyFile[] = [];
  for (const [domain, keys] of byDomain) {
    const marked = readMarker(dataDir, domain);
    const active = keys.some((k) => k.selector === marked)
      ? marked
      : [...keys].sort((a, b) => a.mtime - b.mtime)[0]!.selector;
    for (const k of keys) out.push({ domain, selector: k.selector, path: k.path, active: k.selector === active });
  }
  return out;
}

function markerPath(dataDir: string, domain: string): string {
  return join(dkimDir(dataDir), `${domain.toLowerCase()}.active`);
}

function readMarker(dataDir: string, domain: string): string | undefined {
  try {
    return readFileSync(markerPath(dataDir, domain), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Makes `selector` the key that signs `domain`'s mail (a running server takes it at its next message). */
export function activateDkimKey(dataDir: string, domain: string, selector: string): void {
  const path = markerPath(dataDir, domain);
  // Written beside and renamed: a server reading the marker never sees it half-written.
  writeFileSync(`${path}.tmp`, `${selector}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

/** The DNS TXT record (RFC 6376 §3.6.1) of a private key: `v=DKIM1; k=rsa|ed25519; p=<public key>`. */
export function dkimRecord(privateKeyPem: string): string {
  const publicKey = createPublicKey(privateKeyPem);
  const spki = publicKey.export({ type: "spki", format: "der" });
  const ed25519 = publicKey.asymmetricKeyType === "ed25519";
  // RFC 8463 §4.2: an Ed25519 record carries the raw 32-byte key, not the SPKI structure.
  const p = (ed25519 ? spki.subarray(spki.length - 32) : spki).toString("base64");
  return `v=DKIM1; k=${ed25519 ? "ed25519" : "rsa"}; p=${p}`;
}

/** What changes when a key or the active marker changes: names and modification times. */
export function dkimDirStamp(dataDir: string): string {
  const dir = dkimDir(dataDir);
  if (!existsSync(dir)) return "";
  return readdirSync(dir).sort().map((f) => {
    try {
      return `${f}@${statSync(join(dir, f)).mtimeMs}`;
    } catch {
      return f;
    }
  }).join("/");
}
