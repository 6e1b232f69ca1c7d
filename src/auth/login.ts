/**
 * The login rule shared by SMTP AUTH (RFC 4954), IMAP LOGIN and AUTHENTICATE (RFC 9051 §6.2),
 * POP3 USER/PASS and AUTH (RFC 1939 §7, RFC 5034) and ManageSieve AUTHENTICATE (RFC 5804 §2.1):
 * which SASL mechanisms a protocol offers, what each step of the exchange asks of the session, who
 * may be the authorization identity, and when repeated failures end the session. Each protocol
 * turns the outcome into its own reply; checking the password is the backend's, passed in as
 * `verify` (or a `PasswordCheck` to `SessionLogin`), so this module does no I/O.
 */
import type { TlsInfo } from "../connection.ts";
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

/** How a session answers a login step, whatever its protocol: the refusals carry the same words everywhere. */
export type SessionLoginReply<A> =
  | { kind: "challenge"; challenge: string }
  | { kind: "authenticated"; account: A }
  /** The exchange is over without a login: say `text` (the protocol adds its codes); `close` ends the session. */
  | { kind: "refused"; reason: "cancelled" | "malformed" | "failed"; text: string; close: boolean };

const REFUSALS = {
  cancelled: "Authentication cancelled",
  malformed: "Malformed authentication response",
  failed: "Authentication failed",
} as const;

/** The peer a password check is told of (for throttling and the TLS rule) and the backend that checks it. */
export interface LoginPeer {
  remoteAddress: string;
  tls: TlsInfo | null;
}
export interface PasswordCheck<A> {
  authenticate(username: string, password: string, peer: LoginPeer): Promise<A | null | Banned>;
}

/**
 * The logins of one session (POP3, ManageSieve): the failures counted across its attempts, each step settled by
 * `loginStep` against the backend's password check, told the session's TLS state as it is at that check.
 */
export class SessionLogin<A> {
  #failures = 0;

  constructor(
    private readonly backend: PasswordCheck<A>,
    private readonly options: { remoteAddress: string; maxAuthFailures: number },
    private readonly tls: () => TlsInfo | null,
  ) {}

  async step(step: SaslStep): Promise<SessionLoginReply<A>> {
    const outcome = await loginStep(step, {
      verify: (username, password) =>
        this.backend.authenticate(username, password, { remoteAddress: this.options.remoteAddress, tls: this.tls() }),
      failures: this.#failures,
      maxFailures: this.options.maxAuthFailures,
    });
    switch (outcome.kind) {
      case "challenge":
      case "authenticated":
        return outcome;
      case "failed":
        this.#failures = outcome.failures;
        return { kind: "refused", reason: "failed", text: REFUSALS.failed, close: outcome.close };
      default:
        return { kind: "refused", reason: outcome.kind, text: REFUSALS[outcome.kind], close: false };
    }
  }
}
