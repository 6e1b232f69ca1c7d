/**
 * Email/set create (RFC 8621 §4.6): a message built from JMAP properties; and the append that it
 * shares with Email/import.
 */
import { headerField } from "../../mime/write.ts";
import { StoreError } from "../../store/errors.ts";
import type { Store } from "../../store/store.ts";
import { readBlob } from "./blob.ts";
import { type BlobReader, BlobsNotFound, composeBody, writeMime } from "./compose-body.ts";
import { CONVENIENCE, headerLines, InvalidProperty, parseHeaderProperty, rfc5322Date } from "./compose-headers.ts";
import { emailId, flagOf } from "./email.ts";
import { type JmapAccount, parseId } from "./mailbox.ts";
import { notSettable } from "./schemas.ts";
import { EMAIL } from "./types/email.ts";

/** RFC 8621 §1.3.1 maxMailboxesPerEmail, advertised in the session. */
export const MAX_MAILBOXES_PER_EMAIL = 100;

/** RFC 8621 §4.6: an email in more mailboxes than the server allows is the SetError tooManyMailboxes. */
export function tooManyMailboxes(targets: readonly number[]): { type: "tooManyMailboxes"; description: string } | null {
  return targets.length > MAX_MAILBOXES_PER_EMAIL
    ? { type: "tooManyMailboxes", description: `An email can be in at most ${MAX_MAILBOXES_PER_EMAIL} mailboxes` }
    : null;
}

/** The mailboxes of a `mailboxIds` object, when it names at least one and only the account's own. */
export function targetMailboxes(value: unknown, boxes: Set<number>): number[] | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const entries = Object.entries(value);
  if (entries.length === 0 || entries.some(([, on]) => on !== true)) return null;
  const ids = entries.map(([id]) => parseId("MB", id));
  return ids.every((id): id is number => id !== null && boxes.has(id)) ? ids : null;
}

/**
 * Stores a new email in the first mailbox, then puts it in the others: the store threads it
 * (References / In-Reply-To) like a delivered message.
 */
export async function appendEmail(
  store: Store,
  account: JmapAccount,
  raw: Uint8Array,
  targets: readonly number[],
  flags: readonly string[],
  receivedAt: Date,
) {
  // Every mailbox it is in counts towards the quota (RFC 9208 §5.1); the second write checks again.
  if (targets.length > 1 && (await store.emails.wouldExceedQuota(account.id, raw.byteLength * targets.length))) {
    return { overQuota: true } as const;
  }
  const appended = await store.mail.append({ accountId: account.id, mailboxId: targets[0]!, raw, flags, receivedAt });
  if (appended === "overQuota") return { overQuota: true } as const;
  if (targets.length > 1) {
    const result = await store.mail.updateEmail(account.id, appended.emailId, { mailboxIds: targets });
    if (result === "notFound") throw new StoreError("not-found", `Email ${appended.emailId} vanished`);
    if (result === "overQuota") {
      // Filled up meanwhile: the email is not half created.
      await store.mail.destroyEmail(account.id, appended.emailId);
      return { overQuota: true } as const;
    }
  }
  return {
    id: emailId(appended.emailId),
    blobId: `B${appended.blobHash}`,
    threadId: appended.threadId,
    size: appended.size,
  };
}

/** A SetError (RFC 8620 §5.3) of Email/set create. */
export interface CreateError {
  type: "invalidProperties" | "blobNotFound" | "overQuota" | "tooManyMailboxes";
  description?: string;
  properties?: string[];
  notFound?: string[];
}

/** RFC 8621 §4.1: set by the server, never by a create. */
const SERVER_SET = new Set(notSettable(EMAIL, true));
/** Properties that are not header fields (the others are: convenience properties and header:*). */
const OWN = new Set(["mailboxIds", "keywords", "receivedAt", "bodyStructure", "textBody", "htmlBody", "attachments"]);

/**
 * Email/set create (RFC 8621 §4.6): a message built from JMAP properties — header fields from the
 * convenience properties and `header:*`, the body from `bodyStructure` or `textBody` / `htmlBody` /
 * `attachments` with `bodyValues` and blobs — checked whole before anything is stored, and stored
 * like an APPEND (drafts, typically).
 */
export async function createEmail(
  store: Store,
  account: JmapAccount,
  spec: Record<string, unknown>,
  boxes: Set<number>,
): Promise<{ created: Record<string, unknown> } | { notCreated: CreateError }> {
  const tooMany = tooManyMailboxes(targetMailboxes(spec.mailboxIds, boxes) ?? []);
  if (tooMany) return { notCreated: tooMany };
  let message: { raw: Uint8Array; targets: number[]; flags: string[]; receivedAt: Date };
  try {
    message = await composeMessage(spec, account, boxes, (blobId) => readBlob(store, account, blobId));
  } catch (e) {
    if (e instanceof InvalidProperty) {
      return { notCreated: { type: "invalidProperties", description: e.message, properties: [e.property] } };
    }
    if (e instanceof BlobsNotFound) {
      return {
        notCreated: { type: "blobNotFound", description: "No such blob in this account", notFound: e.notFound },
      };
    }
    throw e;
  }
  const result = await appendEmail(store, account, message.raw, message.targets, message.flags, message.receivedAt);
  return "overQuota" in result
    ? { notCreated: { type: "overQuota", description: "The account is over its quota" } }
    : { created: result };
}

async function composeMessage(
  spec: Record<string, unknown>,
  account: JmapAccount,
  boxes: Set<number>,
  read: BlobReader,
) {
  const targets = targetMailboxes(spec.mailboxIds, boxes);
  if (!targets) throw new InvalidProperty("mailboxIds", "mailboxIds must name at least one mailbox of this account");
  const keywords = spec.keywords ?? {};
  if (
    typeof keywords !== "object" || keywords === null || Array.isArray(keywords) ||
    !Object.entries(keywords).every(([k, v]) => v === true && /^[\x21-\x7e]+$/.test(k) && !/[(){\]%*"\\]/.test(k))
  ) throw new InvalidProperty("keywords", "keywords is an object of keywords set to true");
  const receivedAt = spec.receivedAt === undefined ? new Date() : new Date(String(spec.receivedAt));
  if (Number.isNaN(receivedAt.getTime()) || (spec.receivedAt !== undefined && typeof spec.receivedAt !== "string")) {
    throw new InvalidProperty("receivedAt", "receivedAt must be a UTCDate");
  }
  if (spec.bodyStructure !== undefined) {
    const other = ["textBody", "htmlBody", "attachments"].find((k) => spec[k] !== undefined);
    if (other) throw new InvalidProperty(other, "bodyStructure cannot be given with textBody, htmlBody or attachments");
  }

  // Header fields: each at most once, whether by a convenience property or a header: property.
  const header: string[] = [];
  const given = new Map<string, string>();
  const claim = (field: string, property: string) => {
    const lower = field.toLowerCase();
    const before = given.get(lower);
    if (before) throw new InvalidProperty(property, `${field} is given by ${before} already`);
    // RFC 8621 §4.6: Content-* only on body parts; MIME-Version is the server's.
    if (lower.startsWith("content-") || lower === "mime-version") {
      throw new InvalidProperty(property, `${field} cannot be given on the Email`);
    }
    given.set(lower, property);
  };
  for (const [property, value] of Object.entries(spec)) {
    if (SERVER_SET.has(property)) throw new InvalidProperty(property, `${property} is set by the server`);
    if (OWN.has(property) || property === "bodyValues") continue;
    const field = CONVENIENCE[property] ?? parseHeaderProperty(property);
    if (!field) throw new InvalidProperty(property, `${property} cannot be set`);
    claim(field.name, property);
    // messageId is a list of exactly one (RFC 8621 §4.1.3 allows only one Message-ID field).
    if (property === "messageId" && value !== null && (!Array.isArray(value) || value.length !== 1)) {
      throw new InvalidProperty(property, "messageId is a list of one message id");
    }
    header.push(...headerLines(property, field, value));
  }
  const body = writeMime(await composeBody(spec, read));
  const domain = account.address.split("@")[1];
  const raw = new TextEncoder().encode(
    [
      ...(given.has("from") ? [] : [`From: <${account.address}>`]),
      ...header,
      ...(given.has("date") ? [] : [headerField("Date", rfc5322Date("sentAt", new Date().toISOString()))]),
      ...(given.has("message-id") ? [] : [`Message-ID: <${crypto.randomUUID()}@${domain}>`]),
      "MIME-Version: 1.0",
      ...body.headers,
    ].join("\r\n") + "\r\n\r\n",
  );
  const whole = new Uint8Array(raw.length + body.body.length);
  whole.set(raw);
  whole.set(body.body, raw.length);
  return { raw: whole, targets, flags: Object.keys(keywords).map(flagOf), receivedAt };
}
