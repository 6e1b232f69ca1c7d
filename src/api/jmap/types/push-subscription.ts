/**
 * The PushSubscription data type (RFC 8620 §7.2): where to POST state changes. Not account
 * data: no accountId, no ifInState; url and keys are given once and never returned.
 */
import * as v from "valibot";
import { type DataType, List, Objects, optional } from "../schemas.ts";

export const PUSH_SUBSCRIPTION: DataType = {
  properties: {
    id: "server",
    deviceClientId: "create",
    url: "create",
    keys: "create",
    verificationCode: "update",
    expires: "update",
    types: "update",
  },
  methods: {
    "PushSubscription/get": v.looseObject({ ids: optional(List), properties: optional(List) }),
    "PushSubscription/set": v.looseObject({
      create: optional(Objects),
      update: optional(Objects),
      destroy: optional(List),
    }),
  },
};
