/** The EmailSubmission data type (RFC 8621 §7): an email handed to delivery, with its envelope. */
import * as v from "valibot";
import {
  changes,
  type DataType,
  get,
  List,
  Objects,
  optional,
  plain,
  query,
  queryChanges,
  set,
  UTCDate,
} from "../schemas.ts";

/** RFC 8621 §7.3 EmailSubmission FilterCondition. */
const SubmissionCondition = v.looseObject({
  identityIds: v.optional(List),
  emailIds: v.optional(List),
  threadIds: v.optional(List),
  undoStatus: v.optional(v.picklist(["pending", "final", "canceled"])),
  before: v.optional(UTCDate),
  after: v.optional(UTCDate),
});

export const EMAIL_SUBMISSION: DataType = {
  properties: {
    id: "server",
    identityId: "create",
    emailId: "create",
    threadId: "server",
    envelope: "create",
    sendAt: "server",
    undoStatus: "update",
    deliveryStatus: "server",
    dsnBlobIds: "server",
    mdnBlobIds: "server",
  },
  methods: {
    "EmailSubmission/get": v.looseObject(get),
    "EmailSubmission/changes": v.looseObject(changes),
    "EmailSubmission/query": v.looseObject(query(SubmissionCondition)),
    "EmailSubmission/queryChanges": v.looseObject(queryChanges(SubmissionCondition)),
    "EmailSubmission/set": v.looseObject({
      ...set,
      onSuccessUpdateEmail: optional(plain(v.record(v.string(), Objects))),
      onSuccessDestroyEmail: optional(List),
    }),
  },
};
