/**
 * Password hashing with scrypt (RFC 7914), stored as
 * `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<hash base64>` so parameters can be raised later
 * without breaking existing hashes.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual } from "node:crypto";

// N = 2^15, r = 8, p = 1: the OWASP minimum for scrypt; about 32 MiB and ~50 ms per hash.
const DEFAULT = { ln: 15, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

/**
 * Each hash holds 128·N·r bytes while it runs, so a crowd of simultaneous logins would need a
 * crowd of those at once. At most this many run together; the rest wait their turn, and memory
 * stays bounded at a few hashes whatever the number of clients.
 */
const MAX_CONCURRENT = 2;
let running = 0;
const waiting: Array<() => void> = [];

async function scrypt(password: string, salt: Buffer, ln: number, r: number, p: number): Promise<Buffer> {
  if (running >= MAX_CONCURRENT) await new Promise<void>((resolve) => waiting.push(resolve));
  else running++;
  try {
    const N = 2 ** ln;
    return await new Promise((resolve, reject) =>
      scryptCallback(
        password.normalize("NFC"),
        salt,
        KEY_LENGTH,
        { N, r, p, maxmem: 256 * N * r },
        (err, key) => err ? reject(err) : resolve(key),
      )
    );
  } finally {
    // Hand the slot straight to the next waiter, or free it.
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, DEFAULT.ln, DEFAULT.r, DEFAULT.p);
  return `$scrypt$ln=${DEFAULT.ln},r=${DEFAULT.r},p=${DEFAULT.p}$${salt.toString("base64")}$${key.toString("base64")}`;
}

const FORMAT = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const m = FORMAT.exec(stored);
  if (!m) return false;
  const expected = Buffer.from(m[5]!, "base64");
  const key = await scrypt(password, Buffer.from(m[4]!, "base64"), Number(m[1]), Number(m[2]), Number(m[3]));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

let dummy: Promise<string> | undefined;

/** A hash of a random password, verified against when an account does not exist, so a failed login costs the same. */
export function dummyHash(): Promise<string> {
  dummy ??= hashPassword(randomBytes(12).toString("base64"));
  return dummy;
}
