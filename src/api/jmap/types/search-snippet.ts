/** The SearchSnippet data type (RFC 8621 §5): where an email matched a filter. */
import * as v from "valibot";
import { accountArgs, type DataType, filterOf, List, optional } from "../schemas.ts";
import { EmailCondition } from "./email.ts";

export const SEARCH_SNIPPET: DataType = {
  properties: { emailId: "server", subject: "server", preview: "server" },
  methods: {
    "SearchSnippet/get": v.looseObject({
      ...accountArgs,
      filter: optional(filterOf(EmailCondition)),
      emailIds: optional(List),
    }),
  },
};
