/**
 * What the SMTP session needs from the rest of Postern, as an interface it is given. The
 * session never reaches the store: `src/deliver/smtp-backend.ts` implements this, and tests
 * implement it with a few lines of in-memory code.
 */
import type { Banned } from "../auth/login.ts";
import type { TlsInfo } from "../connection.ts";
import type { Reply } from "./reply.ts";

/** Who is on the other end, as far as the session knows. */
export interface SessionInfo {
  /** "mx" for the smtp listener (port 25 role), "submission" for 587/465. */
  role: "mx" | "submission";
  remoteAddress: string;
  /** The EHLO/HELO argument. */
  helo: string;
  tls: TlsInfo | null;
  /** The authenticated account, once AUTH succeeded. */
  account: AuthenticatedAccount | null;
  /** MAIL FROM of the transaction in progress ("" for `<>`), null outside one. */
  sender: string | null;
}

export interface AuthenticatedAccount {
  id: number;
  address: string;
}

export type RecipientVerdict =
  | "accept"
  /** `550 5.1.1`: a local domain, but no such mailbox or alias. */
  | "unknown"
  /** `554 5.7.1`: not our domain and the session may not relay. */
  | "relay-denied"
  /** `451 4.3.0`: could not decide now (store unavailable). */
  | "tempfail"
  /** `550 5.7.1`: one of our SRS addresses with a wrong hash or too old. */
  | "forged"
  /** A policy decision with its own reply (a hook or a check refused the recipient). */
  | { reply: Reply };

export interface MailTransaction {
  /** The session's id for this message, also in the Received header and the 250 reply. */
  id: string;
  /** MAIL FROM address; "" for the null reverse-path. */
  sender: string;
  recipients: TransactionRecipient[];
  /** RFC 3461 */
  envid?: string;
  ret?: "FULL" | "HDRS";
  body: "7BIT" | "8BITMIME" | "BINARYMIME";
  smtputf8: boolean;
}

export interface TransactionRecipient {
  address: string;
  notify?: string[];
  /** "addr-type;address" from ORCPT, xtext-decoded. */
  orcpt?: string;
}

export type DeliveryResult = { ok: true } | { ok: false; reply: Reply };

export interface SmtpBackend {
  /** Checks a password. Slow on purpose for repeated failures (the backend throttles). */
  authenticate(
    username: string,
    password: string,
    session: SessionInfo,
  ): Promise<AuthenticatedAccount | null | Banned>;
  /** Submission: may this account use this envelope sender? */
  mayUseSender(account: AuthenticatedAccount, sender: string): Promise<boolean>;
  checkRecipient(address: string, session: SessionInfo): Promise<RecipientVerdict>;
  /** Stores (and queues) the message; resolves only after the commit. */
  deliver(transaction: MailTransaction, content: Uint8Array, session: SessionInfo): Promise<DeliveryResult>;
}
