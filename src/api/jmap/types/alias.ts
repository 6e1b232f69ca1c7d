/**
 * The Alias data type of `urn:postern:aliases` (issue 19): an address the account made for
 * itself. `address` is given at creation, `disabled` changes; the rest is the server's.
 */
import * as v from "valibot";
import { type DataType, get, query, set } from "../schemas.ts";

/** Alias/query: `disabled`, and `text` (part of the address). */
const AliasCondition = v.looseObject({
  disabled: v.optional(v.boolean()),
  text: v.optional(v.string()),
});

export const ALIAS: DataType = {
  properties: {
    id: "server",
    address: "create",
    targets: "server",
    disabled: "update",
    forwarded: "server",
    refused: "server",
    lastUsedAt: "server",
  },
  methods: {
    "Alias/get": v.looseObject(get),
    "Alias/set": v.looseObject(set),
    "Alias/query": v.looseObject(query(AliasCondition)),
  },
};
