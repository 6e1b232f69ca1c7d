/**
 * Message encryption for push (RFC 8291, the aes128gcm content coding of RFC 8188): what a
 * PushSubscription with `keys` is sent (RFC 8620 §7.2). An ephemeral P-256 key agrees a secret
 * with the subscription's `p256dh`, mixed with its `auth` secret; the message is one record.
 */
import { createCipheriv, createECDH, createHmac, randomBytes } from "node:crypto";

export interface PushKeys {
  /** The user agent's P-256 public key, uncompressed (65 octets), base64url. */
  p256dh: string;
  /** The 16-octet authentication secret, base64url. */
  auth: string;
}

const hmac = (key: Uint8Array, ...data: Array<Uint8Array | string>) => {
  const mac = createHmac("sha256", key);
  for (const d of data) mac.update(d);
  return mac.digest();
};

/** Whether the keys can be encrypted to: a point on P-256 and a 16-octet secret. */
export function usableKeys(keys: unknown): keys is PushKeys {
  if (typeof keys !== "object" || keys === null) return false;
  const { p256dh, auth } = keys as Record<string, unknown>;
  if (typeof p256dh !== "string" || typeof auth !== "string") return false;
  if (Buffer.from(auth, "base64url").length !== 16) return false;
  try {
    const ecdh = createECDH("prime256v1");
    ecdh.generateKeys();
    ecdh.computeSecret(Buffer.from(p256dh, "base64url"));
    return Buffer.from(p256dh, "base64url").length === 65;
  } catch {
    return false;
  }
}

/**
 * The encrypted body (RFC 8188 §2: salt, record size, key id = the sender's public key, then the
 * record). `fixed` takes the sender key and salt, for the RFC 8291 Appendix A example only.
 */
export function encryptPush(
  plaintext: Uint8Array,
  keys: PushKeys,
  fixed?: { senderPrivateKey: Uint8Array; salt: Uint8Array },
): Uint8Array {
  const uaPublic = Buffer.from(keys.p256dh, "base64url");
  const ecdh = createECDH("prime256v1");
  if (fixed) ecdh.setPrivateKey(fixed.senderPrivateKey);
  else ecdh.generateKeys();
  const asPublic = ecdh.getPublicKey();
  // RFC 8291 §3.3-3.4: the ECDH secret combined with the auth secret, then HKDF with the salt.
  const prkKey = hmac(Buffer.from(keys.auth, "base64url"), ecdh.computeSecret(uaPublic));
  const ikm = hmac(prkKey, "WebPush: info\0", uaPublic, asPublic, Uint8Array.of(1));
  const salt = fixed?.salt ?? randomBytes(16);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, "Content-Encoding: aes128gcm\0", Uint8Array.of(1)).subarray(0, 16);
  const nonce = hmac(prk, "Content-Encoding: nonce\0", Uint8Array.of(1)).subarray(0, 12);
  const cipher = createCipheriv("aes-128-gcm", cek, nonce);
  // RFC 8188 §2: the last (here the only) record ends with the delimiter 0x02, no padding.
  const record = Buffer.concat([cipher.update(plaintext), cipher.update(Uint8Array.of(2)), cipher.final()]);
  const tagged = Buffer.concat([record, cipher.getAuthTag()]);
  // RFC 8291 §4: one record, so the record size must hold it whole.
  const recordSize = Buffer.alloc(4);
  recordSize.writeUInt32BE(Math.max(4096, tagged.length));
  return Buffer.concat([salt, recordSize, Uint8Array.of(asPublic.length), asPublic, tagged]);
}
