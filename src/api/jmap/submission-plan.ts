/**
 * Checking an EmailSubmission create before anything is sent (RFC 8621 §7.5): the identity, the
 * email (by id or by the creation id of an Email/set earlier in the request), the envelope —
 * given, or taken from the Sender/From and To/Cc/Bcc fields — and the bytes to send, without Bcc.
 */
import { withoutFields } from "../../mime/write.ts";
import type { Store } from "../../store/store.ts";
import { isEmailAddress } from "./compose-headers.ts";
import { emailId as jmapEmailId } from "./email.ts";
import { type JmapAccount, parseId } from "./mailbox.ts";
import type { CallContext } from "./request.ts";

export interface SetError {
  type: string;
  description?: string;
  properties?: string[];
  invalidRecipients?: string[];
  /** blobNotFound: the blob ids that were not found (RFC 9404 §4.1). */
  notFound?: string[];
}

export interface Envelope {
  mailFrom: { email: string; parameters: null };
  rcptTo: Array<{ email: string; parameters: null }>;
}

export interface Planned {
  identityId: number;
  emailId: string;
  threadId: string;
  envelope: Envelope;
  raw: Uint8Array;
}

const invalid = (property: string, description: string): SetError => ({
  type: "invalidProperties",
  description,
  properties: [property],
});

/** What a create is checked against: the account's identities and the addresses it may send as. */
export interface Sender {
  identityIds: readonly string[];
  /** Lower case. */
  sendable: readonly string[];
}

export async function planSubmission(
  store: Store,
  account: JmapAccount,
  sender: Sender,
  spec: unknown,
  context: CallContext,
): Promise<Planned | SetError> {
  if (typeof spec !== "object" || spec === null) return invalid("", "An EmailSubmission object");
  const { identityId: identity, emailId: ref, envelope: given, ...rest } = spec as Record<string, unknown>;
  const unknown = Object.keys(rest).find((k) => k !== "undoStatus" || rest[k] !== "final");
  if (unknown) return invalid(unknown, `${unknown} cannot be set`);
  if (typeof identity !== "string" || !sender.identityIds.includes(identity)) {
    return invalid("identityId", "No such identity");
  }
  const resolved = typeof ref === "string" && ref.startsWith("#") ? context.createdIds.get(ref.slice(1)) : ref;
  const number = parseId("M", resolved);
  const [email] = number ? await store.emails.get(account.id, [number]) : [];
  if (!email) return invalid("emailId", "No such email");
  const raw = await store.emails.readBlob(email.blobHash);
  if (!raw) return invalid("emailId", "No such email");

  let envelope: Envelope;
  if (given === undefined || given === null) {
    // RFC 8621 §7.5: from the Sender (else From) field and the To, Cc and Bcc fields, without repeats.
    const s = email.summary;
    const from = s.sender[0] ?? s.from[0];
    const seen = new Set<string>();
    const rcptTo = [...s.to, ...s.cc, ...s.bcc].filter((a) =>
      !seen.has(a.email.toLowerCase()) &&
      seen.add(a.email.toLowerCase())
    );
    envelope = {
      mailFrom: { email: from?.email ?? account.address, parameters: null },
      rcptTo: rcptTo.map((a) => ({ email: a.email, parameters: null })),
    };
  } else {
    const { mailFrom, rcptTo } = given as { mailFrom?: unknown; rcptTo?: unknown };
    if (!isEmailAddress(mailFrom) && (mailFrom as { email?: unknown })?.email !== "") {
      return invalid("envelope/mailFrom", "An Address");
    }
    if (!Array.isArray(rcptTo)) return invalid("envelope/rcptTo", "A list of Addresses");
    const bad = rcptTo.filter((r) => !isEmailAddress(r)).map((r) => String((r as { email?: unknown })?.email));
    if (bad.length) return { type: "invalidRecipients", description: "Not addresses", invalidRecipients: bad };
    envelope = {
      mailFrom: { email: (mailFrom as { email: string }).email, parameters: null },
      rcptTo: rcptTo.map((r) => ({ email: (r as { email: string }).email, parameters: null })),
    };
  }
  if (!sender.sendable.includes(envelope.mailFrom.email.toLowerCase())) {
    return { type: "forbiddenMailFrom", description: `${envelope.mailFrom.email} is not an address of this account` };
  }
  // RFC 8621 §7.5 forbiddenFrom: the From field too names only addresses the account may send as.
  const from = email.summary.from.find((a) => !sender.sendable.includes(a.email.toLowerCase()));
  if (from) return { type: "forbiddenFrom", description: `This account may not send as ${from.email}` };
  if (envelope.rcptTo.length === 0) return { type: "noRecipients", description: "The envelope has no recipient" };
  // RFC 5322 §3.6.3: Bcc recipients get the message, but not the field that names them.
  return {
    identityId: parseId("I", identity)!,
    emailId: jmapEmailId(email.id),
    threadId: email.threadId,
    envelope,
    raw: withoutFields(raw, ["bcc"]),
  };
}
