/**
 * The SieveScript data type (RFC 9661 §2): a named script whose content is a blob. isActive is
 * the server's, changed only by /set's onSuccessActivateScript and onSuccessDeactivateScript.
 */
import * as v from "valibot";
import { accountArgs, changes, type DataType, get, Id, optional, query, set } from "../schemas.ts";

/** RFC 9661 §2.3 FilterCondition. */
const SieveScriptCondition = v.looseObject({
  name: v.optional(v.string()),
  isActive: v.optional(v.boolean()),
});

export const SIEVE_SCRIPT: DataType = {
  properties: { id: "server", name: "update", isActive: "server", blobId: "update" },
  methods: {
    "SieveScript/get": v.looseObject(get),
    "SieveScript/changes": v.looseObject(changes),
    "SieveScript/set": v.looseObject({
      ...set,
      onSuccessActivateScript: optional(Id),
      onSuccessDeactivateScript: optional(v.boolean()),
    }),
    "SieveScript/query": v.looseObject(query(SieveScriptCondition)),
    // RFC 9661 §2.4.
    "SieveScript/validate": v.looseObject({ ...accountArgs, blobId: Id }),
  },
};
