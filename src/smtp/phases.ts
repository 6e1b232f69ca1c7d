/**
 * RFC 5321 §4.1.4's command order as a table: the phase a session is in, the commands each phase allows, and the
 * reply to a command out of order. Pure; src/smtp/session.ts checks it once before dispatching a command.
 */
import type { SmtpCommand } from "./command.ts";
import { type Reply, reply } from "./reply.ts";

/** Where the session is in RFC 5321 §4.1.4's command order. */
export type Phase = "connected" | "ready" | "mail" | "rcpt";

/** The commands each phase allows, checked once before dispatch. */
export const ALLOWED: Record<SmtpCommand["verb"], readonly Phase[] | "any"> = {
  EHLO: "any",
  HELO: "any",
  RSET: "any",
  NOOP: "any",
  QUIT: "any",
  HELP: "any",
  VRFY: "any",
  EXPN: "any",
  STARTTLS: ["connected", "ready"],
  AUTH: ["ready"],
  MAIL: ["ready"],
  RCPT: ["mail", "rcpt"],
  DATA: ["rcpt"],
  BDAT: ["rcpt"],
};

/** The reply to `verb` sent in `phase`, which does not allow it. */
export function wrongPhase(verb: SmtpCommand["verb"], phase: Phase): Reply {
  if (phase === "connected" && verb !== "DATA" && verb !== "BDAT") return reply(503, "5.5.1", "Send EHLO first");
  switch (verb) {
    case "MAIL":
      return reply(503, "5.5.1", "Nested MAIL command");
    case "AUTH":
      return reply(503, "5.5.1", "AUTH is not allowed during a mail transaction");
    case "STARTTLS":
      return reply(503, "5.5.1", "STARTTLS is not allowed during a mail transaction");
    case "DATA":
    case "BDAT":
      return phase === "mail"
        ? reply(554, "5.5.1", "No valid recipients")
        : reply(503, "5.5.1", "Need MAIL and RCPT first");
    default:
      return reply(503, "5.5.1", "Need MAIL command");
  }
}
