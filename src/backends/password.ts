/**
 * Password checks shared by SMTP AUTH, POP3 and IMAP: throttled per client IP and per account
 * (src/auth/throttle.ts), and silent about whether the account exists.
 */
import type { AuthThrottle } from "../auth/throttle.ts";
import type { Store } from "../store/store.ts";

export async function checkPassword(
  store: Store,
  throttle: AuthThrottle,
  username: string,
  password: string,
  remoteAddress: string,
): Promise<{ id: number; address: string } | null> {
  const delay = throttle.delayFor(remoteAddress, username);
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  const account = await store.accounts.verify(username, password);
  if (!account) {
    throttle.failed(remoteAddress, username);
    return null;
  }
  throttle.succeeded(username);
  return { id: account.id, address: account.address };
}
