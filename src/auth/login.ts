/**
 * The login rule shared by SMTP AUTH (RFC 4954), IMAP LOGIN and AUTHENTICATE (RFC 9051 §6.2) and
 * POP3 USER/PASS and AUTH (RFC 1939 §7, RFC 5034): which SASL mechanisms a protocol offers, what
 * each step of the exchange asks of the session, who may be the authorization identity, and when
 * repeated failures end the session. Each protocol turns the outcome into its own reply; checking
 * the password is the backend's, passed in as `verify`, so this module does no I/O.
 */
import { isSaslMechanism, SaslExchange, type SaslMechanism, type SaslStep } from "./sasl.ts";

/** What the session does next, whatever its protocol. */
export type LoginOutcome<A> =
  /** Send this base64 challenge in the protocol's continuation ("334 ", "+ ") and wait for the answer. */
  | { kind: "challenge"; challenge: string }
  /** The client sent "*" (RFC 4954 §4, RFC 9051 §6.2.2, RFC 5034 §4). Not a failed login. */
  | { kind: "cancelled" }
  /** Not base64, not UTF-8, or the wrong fields for the mechanism. Not a failed login. */
  | { kind: "malformed" }
  | { kind: "authenticated"; account: A }
  /**
   * Wrong credentials, or an authorization identity other than the user's own. The reply must
   * not say which (RFC 4954 §6). `failures` is the new count; `close` once it reaches the limit,
   * or at once when the client's address is `banned` (the password was not even checked).
   */
  | { kind: "failed"; failures: number; close: boolean; banned?: true };

/** What a password check answers for an address banned for too many failures (src/auth/throttle.ts). */
export type Banned = "banned";

export interface LoginAttempt<A> {
  /** The backend's password check: the account, or null for unknown user or wrong password. */
  verify(username: string, password: string): Promise<A | null | Banned>;
  /** Failed logins so far in this session. */
  failures: number;
  maxFailures: number;
}

/**
 * Starts a SASL exchange when `mechanism` (upper case) is one the protocol offers; null when it
 * is not, for the protocol's "unrecognized mechanism" reply. `initialResponse` is the optional
 * base64 argument after the mechanism name (SASL-IR; "=" for an empty one).
 */
export function startSasl(
  mechanism: string,
  offered: readonly SaslMechanism[],
  initialResponse: string | undefined,
): { exchange: SaslExchange; step: SaslStep } | null {
  if (!isSaslMechanism(mechanism) || !offered.includes(mechanism)) return null;
  const exchange = new SaslExchange(mechanism);
  return { exchange, step: exchange.start(initialResponse) };
}

/** A plain username and password (IMAP LOGIN, POP3 USER/PASS) as the step `loginStep` takes. */
export function passwordStep(username: string, password: string): SaslStep {
  return { kind: "credentials", credentials: { authzid: "", username, password } };
}

/**
 * Settles one step of a login: a challenge to pass on, a cancelled or malformed exchange, or the
 * credentials checked. Acting as another user is not supported: the authorization identity must
 * be empty or the user's own (RFC 4616 §2), otherwise the login fails like a wrong password.
 */
export async function loginStep<A>(step: SaslStep, attempt: LoginAttempt<A>): Promise<LoginOutcome<A>> {
  if (step.kind === "challenge") return step;
  if (step.kind === "error") return { kind: step.reason };
  const { authzid, username, password } = step.credentials;
  const account = authzid && authzid !== username ? null : await attempt.verify(username, password);
  const failures = attempt.failures + 1;
  if (account === "banned") return { kind: "failed", failures, close: true, banned: true };
  if (account) return { kind: "authenticated", account };
  return { kind: "failed", failures, close: failures >= attempt.maxFailures };
}
