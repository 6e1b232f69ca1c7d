/**
 * The Email data type (RFC 8621 §4): its properties (those Email/get returns by default first,
 * RFC 8621 §4.2), the EmailBodyPart properties, the FilterCondition, and its methods' arguments.
 * `header:*` properties are parsed apart (header-forms.ts).
 */
import * as v from "valibot";
import {
  accountArgs,
  changes,
  type DataType,
  get,
  Id,
  List,
  Objects,
  optional,
  query,
  queryChanges,
  set,
  UnsignedInt,
  UTCDate,
} from "../schemas.ts";

/** RFC 8621 §4.4.1 Email FilterCondition. */
export const EmailCondition = v.looseObject({
  inMailbox: v.optional(Id),
  inMailboxOtherThan: v.optional(List),
  before: v.optional(UTCDate),
  after: v.optional(UTCDate),
  minSize: v.optional(UnsignedInt),
  maxSize: v.optional(UnsignedInt),
  allInThreadHaveKeyword: v.optional(v.string()),
  someInThreadHaveKeyword: v.optional(v.string()),
  noneInThreadHaveKeyword: v.optional(v.string()),
  hasKeyword: v.optional(v.string()),
  notKeyword: v.optional(v.string()),
  hasAttachment: v.optional(v.boolean()),
  text: v.optional(v.string()),
  from: v.optional(v.string()),
  to: v.optional(v.string()),
  cc: v.optional(v.string()),
  bcc: v.optional(v.string()),
  subject: v.optional(v.string()),
  body: v.optional(v.string()),
  // A header name, and the text its value must contain.
  header: v.optional(v.pipe(List, v.minLength(1, "must name a header"), v.maxLength(2, "is [name] or [name, value]"))),
});

/** RFC 8621 §4.2 Email/get, and §4.9 Email/parse: which body values to fetch. */
const bodyValues = {
  bodyProperties: optional(List),
  fetchTextBodyValues: optional(v.boolean()),
  fetchHTMLBodyValues: optional(v.boolean()),
  fetchAllBodyValues: optional(v.boolean()),
  maxBodyValueBytes: optional(UnsignedInt),
};

const emailQuery = { collapseThreads: optional(v.boolean()) };

/**
 * RFC 8621 §4.1: id, blobId, threadId, size, preview and hasAttachment are the server's;
 * mailboxIds and keywords change; the rest is given at creation (the message is immutable).
 */
const PROPERTIES = {
  id: "server",
  blobId: "server",
  threadId: "server",
  mailboxIds: "update",
  keywords: "update",
  size: "server",
  receivedAt: "create",
  messageId: "create",
  inReplyTo: "create",
  references: "create",
  sender: "create",
  from: "create",
  to: "create",
  cc: "create",
  bcc: "create",
  replyTo: "create",
  subject: "create",
  sentAt: "create",
  hasAttachment: "server",
  preview: "server",
  bodyValues: "create",
  textBody: "create",
  htmlBody: "create",
  attachments: "create",
  // Not returned unless asked for.
  bodyStructure: "create",
  headers: "create",
} as const;

/** Only a stored email has these (RFC 8621 §4.9: Email/parse returns them as null). */
export const STORED_ONLY = ["id", "blobId", "threadId", "mailboxIds", "keywords", "size", "receivedAt"];

export const EMAIL: DataType = {
  properties: PROPERTIES,
  defaultProperties: Object.keys(PROPERTIES).filter((p) => p !== "bodyStructure" && p !== "headers"),
  methods: {
    "Email/get": v.looseObject({ ...get, ...bodyValues }),
    "Email/changes": v.looseObject(changes),
    "Email/query": v.looseObject({ ...query(EmailCondition), ...emailQuery }),
    "Email/queryChanges": v.looseObject({ ...queryChanges(EmailCondition), ...emailQuery }),
    "Email/set": v.looseObject(set),
    "Email/copy": v.looseObject({
      fromAccountId: Id,
      ifFromInState: optional(v.string()),
      ...accountArgs,
      ifInState: optional(v.string()),
      create: Objects,
      onSuccessDestroyOriginal: optional(v.boolean()),
      destroyFromIfInState: optional(v.string()),
    }),
    "Email/import": v.looseObject({ ...accountArgs, ifInState: optional(v.string()), emails: Objects }),
    "Email/parse": v.looseObject({ ...accountArgs, blobIds: List, properties: optional(List), ...bodyValues }),
  },
};

/** RFC 8621 §4.1.4 EmailBodyPart: those returned by default, then the others. */
export const DEFAULT_BODY_PROPERTIES = [
  "partId",
  "blobId",
  "size",
  "name",
  "type",
  "charset",
  "disposition",
  "cid",
  "language",
  "location",
];
export const BODY_PROPERTIES = new Set([...DEFAULT_BODY_PROPERTIES, "headers", "subParts"]);
