/**
 * Password checks shared by SMTP AUTH, POP3, IMAP and JMAP Basic: throttled per client IP and per
 * account (src/auth/throttle.ts), silent about whether the account exists, and answered from the
 * process's one cache of verified credentials (src/auth/credential-cache.ts) when the account's
 * stored hash is still the one a password was verified against.
 */
import { CredentialCache } from "../auth/credential-cache.ts";
import type { Banned } from "../auth/login.ts";
import type { AuthThrottle } from "../auth/throttle.ts";
import type { Store } from "../store/store.ts";
import { count } from "../util/counters.ts";
import { log } from "../util/log.ts";

/**
 * One per process, whatever the protocol or the store: an entry only says that a password
 * matches a stored hash, which is true wherever that hash is found.
 */
const credentials = new CredentialCache();

export async function checkPassword(
  store: Store,
  throttle: AuthThrottle,
  username: string,
  password: string,
  remoteAddress: string,
  cache: CredentialCache = credentials,
): Promise<{ id: number; address: string } | null | Banned> {
  // An address with too many failures lately is refused without looking at the password.
  if (await throttle.banned(remoteAddress)) return "banned";
  const delay = await throttle.delayFor(remoteAddress, username);
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  const account = await store.accounts.verify(
    username,
    password,
    (pw, storedHash, address) => cache.check(address, pw, storedHash),
  );
  if (!account) {
    // The line contrib/fail2ban/postern.conf matches: one per failed password, with the client address.
    log.warn("auth failed", { ip: remoteAddress, user: username });
    count("postern_auth_attempts_total", { result: "failed" });
    await throttle.failed(remoteAddress, username);
    return null;
  }
  log.info("auth ok", { ip: remoteAddress, user: account.address });
  count("postern_auth_attempts_total", { result: "ok" });
  await throttle.succeeded(username);
  return { id: account.id, address: account.address };
}
