/**
 * The arguments of every JMAP method, as valibot schemas (RFC 8620 §5 for the standard methods,
 * RFC 8621, 9404 and 9425 for what each type adds). `checkArguments` runs before the method: a
 * wrong type, a missing required argument or a bad filter shape is `invalidArguments` naming the
 * argument (RFC 8620 §3.6.2). What each object of a /set holds is the method's to check: a bad
 * one is a SetError for that object, not for the call.
 */
import * as v from "valibot";
import { MethodError } from "./request.ts";

/** RFC 8620 §1.3: Int and UnsignedInt stay within ±2^53-1. */
const Int = v.pipe(v.number(), v.safeInteger());
const UnsignedInt = v.pipe(v.number(), v.safeInteger(), v.minValue(0, "must not be negative"));
/** RFC 8620 §1.4: a UTCDate ("Z", seconds, an optional fraction). */
export const UTC_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
const UTCDate = v.pipe(
  v.string(),
  v.regex(UTC_DATE, "must be a UTCDate"),
  v.check((s) => !Number.isNaN(Date.parse(s)), "must be a UTCDate"),
);
const Id = v.string();
const optional = <S extends v.GenericSchema>(schema: S) => v.nullish(schema);
const List = v.array(v.string());
/** A JSON object (valibot's object and record schemas also take arrays). */
const isPlain = (input: unknown) => typeof input === "object" && input !== null && !Array.isArray(input);
const plain = <S extends v.GenericSchema>(schema: S) => v.pipe(v.custom<unknown>(isPlain, "must be an object"), schema);
const Objects = plain(v.record(v.string(), v.unknown()));

/** Every call names its account (RFC 8620 §5: a missing accountId is invalidArguments). */
const accountArgs = { accountId: Id };

/** RFC 8620 §5.1 Foo/get. */
const get = { ...accountArgs, ids: optional(List), properties: optional(List) };
/** RFC 8620 §5.2 Foo/changes: maxChanges is a positive integer. */
const changes = {
  ...accountArgs,
  sinceState: v.string(),
  maxChanges: optional(v.pipe(UnsignedInt, v.minValue(1, "must be positive"))),
};
/** RFC 8620 §5.3 Foo/set; each object of create/update is checked by the method (a SetError). */
const set = {
  ...accountArgs,
  ifInState: optional(v.string()),
  create: optional(Objects),
  update: optional(Objects),
  destroy: optional(List),
};

/** RFC 8620 §5.5 Comparator. */
const Comparator = plain(v.looseObject({
  property: v.string(),
  isAscending: v.optional(v.boolean()),
  collation: v.optional(v.string()),
  // RFC 8621 §4.4.2: the keyword of the hasKeyword and *InThreadHaveKeyword sorts.
  keyword: v.optional(v.string()),
}));

/**
 * RFC 8620 §5.5 Filter: a FilterOperator (AND/OR/NOT over Filters) or a FilterCondition of the
 * type. Conditions keep unknown keys: the method answers unsupportedFilter for those.
 */
function filterOf(condition: v.GenericSchema): v.GenericSchema {
  const filter: v.GenericSchema = v.lazy((input) =>
    typeof input === "object" && input !== null && "operator" in input
      ? v.strictObject({ operator: v.picklist(["AND", "OR", "NOT"]), conditions: v.array(filter) })
      : plain(condition)
  );
  return filter;
}

/** RFC 8620 §5.5 Foo/query. */
const query = (condition: v.GenericSchema) => ({
  ...accountArgs,
  filter: optional(filterOf(condition)),
  sort: optional(v.array(Comparator)),
  position: optional(Int),
  anchor: optional(Id),
  anchorOffset: optional(Int),
  limit: optional(UnsignedInt),
  calculateTotal: optional(v.boolean()),
});
/** RFC 8620 §5.6 Foo/queryChanges. */
const queryChanges = (condition: v.GenericSchema) => ({
  ...accountArgs,
  filter: optional(filterOf(condition)),
  sort: optional(v.array(Comparator)),
  sinceQueryState: v.string(),
  maxChanges: optional(UnsignedInt),
  upToId: optional(Id),
  calculateTotal: optional(v.boolean()),
});

/** RFC 8621 §2.3 Mailbox FilterCondition. */
const MailboxCondition = v.looseObject({
  parentId: optional(Id),
  name: v.optional(v.string()),
  role: optional(v.string()),
  hasAnyRole: v.optional(v.boolean()),
  isSubscribed: v.optional(v.boolean()),
});

/** RFC 8621 §4.4.1 Email FilterCondition. */
const EmailCondition = v.looseObject({
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

/** RFC 8621 §7.3 EmailSubmission FilterCondition. */
const SubmissionCondition = v.looseObject({
  identityIds: v.optional(List),
  emailIds: v.optional(List),
  threadIds: v.optional(List),
  undoStatus: v.optional(v.picklist(["pending", "final", "canceled"])),
  before: v.optional(UTCDate),
  after: v.optional(UTCDate),
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

/** Quota has no FilterCondition of its own here beyond RFC 9425 §4.3's; unknown ones are unsupportedFilter. */
const AnyCondition = v.looseObject({});

const ARGUMENTS: Record<string, v.GenericSchema> = {
  "Mailbox/get": v.looseObject(get),
  "Mailbox/changes": v.looseObject(changes),
  "Mailbox/query": v.looseObject({
    ...query(MailboxCondition),
    sortAsTree: optional(v.boolean()),
    filterAsTree: optional(v.boolean()),
  }),
  "Mailbox/queryChanges": v.looseObject(queryChanges(MailboxCondition)),
  "Mailbox/set": v.looseObject({ ...set, onDestroyRemoveEmails: optional(v.boolean()) }),

  "Thread/get": v.looseObject(get),
  "Thread/changes": v.looseObject(changes),

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

  "SearchSnippet/get": v.looseObject({
    ...accountArgs,
    filter: optional(filterOf(EmailCondition)),
    emailIds: optional(List),
  }),

  "Identity/get": v.looseObject(get),
  "Identity/changes": v.looseObject(changes),
  "Identity/set": v.looseObject(set),

  "EmailSubmission/get": v.looseObject(get),
  "EmailSubmission/changes": v.looseObject(changes),
  "EmailSubmission/query": v.looseObject(query(SubmissionCondition)),
  "EmailSubmission/queryChanges": v.looseObject(queryChanges(SubmissionCondition)),
  "EmailSubmission/set": v.looseObject({
    ...set,
    onSuccessUpdateEmail: optional(plain(v.record(v.string(), Objects))),
    onSuccessDestroyEmail: optional(List),
  }),

  "VacationResponse/get": v.looseObject(get),
  "VacationResponse/set": v.looseObject(set),

  "Quota/get": v.looseObject(get),
  "Quota/changes": v.looseObject(changes),
  "Quota/query": v.looseObject(query(AnyCondition)),
  "Quota/queryChanges": v.looseObject(queryChanges(AnyCondition)),

  "Blob/get": v.looseObject({ ...get, ids: List, offset: optional(UnsignedInt), length: optional(UnsignedInt) }),
  "Blob/copy": v.looseObject({ fromAccountId: Id, ...accountArgs, blobIds: optional(List) }),
  // RFC 9404 §4.1, §4.3.
  "Blob/upload": v.looseObject({ ...accountArgs, create: Objects }),
  "Blob/lookup": v.looseObject({ ...accountArgs, typeNames: List, ids: List }),

  // RFC 8620 §7.2: no accountId, no ifInState.
  "PushSubscription/get": v.looseObject({ ids: optional(List), properties: optional(List) }),
  "PushSubscription/set": v.looseObject({
    create: optional(Objects),
    update: optional(Objects),
    destroy: optional(List),
  }),
};

/** Throws invalidArguments naming the first argument that does not fit the method's schema. */
export function checkArguments(name: string, args: Record<string, unknown>): void {
  const schema = ARGUMENTS[name];
  if (!schema) return;
  const result = v.safeParse(schema, args, { abortEarly: true });
  if (result.success) return;
  const issue = result.issues[0];
  const path = v.getDotPath(issue) ?? "arguments";
  // A missing argument reads "Invalid type: Expected … but received undefined": say so plainly.
  const missing = issue.input === undefined && issue.kind === "schema";
  throw new MethodError("invalidArguments", missing ? `${path} is required` : `${path}: ${issue.message}`);
}
