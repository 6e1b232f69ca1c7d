/** The Mailbox data type (RFC 8621 §2): its properties and its methods' arguments. */
import * as v from "valibot";
import { changes, type DataType, get, Id, optional, query, queryChanges, set } from "../schemas.ts";

/** RFC 8621 §2.3 Mailbox FilterCondition. */
const MailboxCondition = v.looseObject({
  parentId: optional(Id),
  name: v.optional(v.string()),
  role: optional(v.string()),
  hasAnyRole: v.optional(v.boolean()),
  isSubscribed: v.optional(v.boolean()),
});

export const MAILBOX: DataType = {
  properties: {
    id: "server",
    name: "update",
    parentId: "update",
    role: "update",
    sortOrder: "update",
    totalEmails: "server",
    unreadEmails: "server",
    totalThreads: "server",
    unreadThreads: "server",
    myRights: "server",
    isSubscribed: "update",
  },
  methods: {
    "Mailbox/get": v.looseObject(get),
    "Mailbox/changes": v.looseObject(changes),
    "Mailbox/query": v.looseObject({
      ...query(MailboxCondition),
      sortAsTree: optional(v.boolean()),
      filterAsTree: optional(v.boolean()),
    }),
    "Mailbox/queryChanges": v.looseObject(queryChanges(MailboxCondition)),
    "Mailbox/set": v.looseObject({ ...set, onDestroyRemoveEmails: optional(v.boolean()) }),
  },
};
