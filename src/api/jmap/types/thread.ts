/** The Thread data type (RFC 8621 §3): the emails of one conversation, read only. */
import * as v from "valibot";
import { changes, type DataType, get } from "../schemas.ts";

export const THREAD: DataType = {
  properties: { id: "server", emailIds: "server" },
  methods: {
    "Thread/get": v.looseObject(get),
    "Thread/changes": v.looseObject(changes),
  },
};
