/**
 * IMAP connection states (RFC 9051 §3) and the one table of which commands each allows,
 * checked before dispatch, with the capabilities advertised in each.
 */
import type { ImapCommand } from "./commands.ts";

export type StateName = "not-authenticated" | "authenticated" | "selected" | "logout";

type Name = ImapCommand["name"];

const ANY: readonly Name[] = ["CAPABILITY", "NOOP", "LOGOUT", "ID"];
const AUTHENTICATED: readonly Name[] = [
  ...ANY,
  "ENABLE",
  "COMPRESS",
  "NOTIFY",
  "SELECT",
  "EXAMINE",
  "CREATE",
  "DELETE",
  "RENAME",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "LIST",
  "LSUB",
  "NAMESPACE",
  "STATUS",
  "APPEND",
  "IDLE",
  "GETQUOTA",
  "GETQUOTAROOT",
  "SETQUOTA",
];

/** RFC 9051 §6.1-6.4: the commands valid in each state. UID forms follow their base command. */
export const ALLOWED: Record<Exclude<StateName, "logout">, ReadonlySet<Name>> = {
  "not-authenticated": new Set([...ANY, "STARTTLS", "LOGIN", "AUTHENTICATE"]),
  authenticated: new Set(AUTHENTICATED),
  selected: new Set([
    ...AUTHENTICATED,
    "CHECK",
    "CLOSE",
    "UNSELECT",
    "EXPUNGE",
    "SEARCH",
    "SORT",
    "THREAD",
    "CANCELUPDATE",
    "FETCH",
    "STORE",
    "COPY",
    "MOVE",
  ]),
};

export function allowed(state: StateName, name: Name): boolean {
  return state !== "logout" && ALLOWED[state].has(name);
}

/** Why a command is refused in a state, for the tagged BAD. */
export function refusal(state: StateName, name: Name): string {
  if (state === "not-authenticated") return `${name} needs LOGIN or AUTHENTICATE first`;
  if (ALLOWED.selected.has(name) && state === "authenticated") return `${name} needs a selected mailbox`;
  return `${name} is not allowed in the ${state} state`;
}

export interface CapabilityContext {
  state: StateName;
  tls: boolean;
  /** auth.allowPlaintext: LOGIN and AUTHENTICATE without TLS. */
  allowPlaintext: boolean;
}

/** RFC 9051 §7.2.2; LOGINDISABLED until TLS (RFC 9051 §6.2.3). */
export function capabilities(context: CapabilityContext): string[] {
  const caps = ["IMAP4rev1", "IMAP4rev2", "LITERAL+", "ID", "ENABLE", "SASL-IR"];
  if (context.state === "not-authenticated") {
    if (!context.tls) caps.push("STARTTLS");
    if (context.tls || context.allowPlaintext) caps.push("AUTH=PLAIN");
    else caps.push("LOGINDISABLED");
    return caps;
  }
  return [
    ...caps,
    "IDLE",
    "NAMESPACE",
    "UNSELECT",
    "UIDPLUS",
    "MULTIAPPEND",
    "CATENATE",
    "MOVE",
    "CHILDREN",
    "LIST-EXTENDED",
    "LIST-STATUS",
    "SPECIAL-USE",
    "CREATE-SPECIAL-USE",
    "STATUS=SIZE",
    "ESEARCH",
    "SEARCHRES",
    "WITHIN",
    "OBJECTID",
    "PREVIEW",
    "SAVEDATE",
    "QUOTA",
    "QUOTA=RES-STORAGE",
    "SORT",
    "SORT=DISPLAY",
    "ESORT",
    "CONTEXT=SEARCH",
    "CONTEXT=SORT",
    "THREAD=ORDEREDSUBJECT",
    "THREAD=REFERENCES",
    "BINARY",
    "CONDSTORE",
    "QRESYNC",
    "UTF8=ACCEPT",
    "COMPRESS=DEFLATE",
    "NOTIFY",
  ];
}
