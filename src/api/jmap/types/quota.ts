/** The Quota data type (RFC 9425 §4): a limit on a resource and how much of it is used; read only. */
import * as v from "valibot";
import { AnyCondition, changes, type DataType, get, query, queryChanges } from "../schemas.ts";

export const QUOTA_TYPE: DataType = {
  properties: {
    id: "server",
    resourceType: "server",
    used: "server",
    hardLimit: "server",
    scope: "server",
    name: "server",
    types: "server",
    warnLimit: "server",
    softLimit: "server",
    description: "server",
  },
  methods: {
    "Quota/get": v.looseObject(get),
    "Quota/changes": v.looseObject(changes),
    "Quota/query": v.looseObject(query(AnyCondition)),
    "Quota/queryChanges": v.looseObject(queryChanges(AnyCondition)),
  },
};
