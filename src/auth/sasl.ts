/**
 * SASL PLAIN (RFC 4616) and LOGIN (draft-murchison-sasl-login) as a pure exchange, shared by
 * SMTP AUTH (RFC 4954), IMAP AUTHENTICATE (RFC 9051 §6.2.2) and POP3 AUTH (RFC 5034).
 * Each protocol wraps the challenges in its own continuation syntax ("334 ", "+ ").
 */

export const SASL_MECHANISMS = ["PLAIN", "LOGIN"] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface SaslCredentials {
  /** Authorization identity; "" when the client asked for none. */
  authzid: string;
  username: string;
  password: string;
}

export type SaslStep =
  /** Send this base64 challenge and feed the client's next line to `respond`. */
  | { kind: "challenge"; challenge: string }
  | { kind: "credentials"; credentials: SaslCredentials }
  /** The client cancelled with "*" (RFC 4954 §4) or sent something malformed. */
  | { kind: "error"; reason: "cancelled" | "malformed" };

export function isSaslMechanism(name: string): name is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(name);
}

const USERNAME = btoa("Username:");
const PASSWORD = btoa("Password:");

export class SaslExchange {
  readonly mechanism: SaslMechanism;
  #username: string | undefined;

  constructor(mechanism: SaslMechanism) {
    this.mechanism = mechanism;
  }

  /**
   * Starts the exchange. `initialResponse` is the optional base64 argument after the mechanism
   * name; "=" stands for an empty one (RFC 4954 §4).
   */
  start(initialResponse?: string): SaslStep {
    if (initialResponse === undefined) {
      return { kind: "challenge", challenge: this.mechanism === "PLAIN" ? "" : USERNAME };
    }
    return this.respond(initialResponse);
  }

  /** Feeds one client response line (base64, or "*" to cancel). */
  respond(line: string): SaslStep {
    const text = line.trim();
    if (text === "*") return { kind: "error", reason: "cancelled" };
    const decoded = decodeBase64(text === "=" ? "" : text);
    if (decoded === null) return { kind: "error", reason: "malformed" };

    if (this.mechanism === "PLAIN") {
      // RFC 4616 §2: [authzid] NUL authcid NUL passwd
      const parts = decoded.split("\0");
      if (parts.length !== 3 || !parts[1] || !parts[2]) return { kind: "error", reason: "malformed" };
      return { kind: "credentials", credentials: { authzid: parts[0]!, username: parts[1], password: parts[2] } };
    }
    if (this.#username === undefined) {
      if (!decoded) return { kind: "error", reason: "malformed" };
      this.#username = decoded;
      return { kind: "challenge", challenge: PASSWORD };
    }
    return { kind: "credentials", credentials: { authzid: "", username: this.#username, password: decoded } };
  }
}

/** Strict base64 to UTF-8; null when the input is not base64 or not UTF-8. */
export function decodeBase64(text: string): string | null {
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) return null;
  try {
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}
