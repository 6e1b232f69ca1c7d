/** The Identity data type (RFC 8621 §6): an address the account sends as; its email never changes. */
import * as v from "valibot";
import { changes, type DataType, get, set } from "../schemas.ts";

export const IDENTITY: DataType = {
  properties: {
    id: "server",
    name: "update",
    email: "create",
    replyTo: "update",
    bcc: "update",
    textSignature: "update",
    htmlSignature: "update",
    mayDelete: "server",
  },
  methods: {
    "Identity/get": v.looseObject(get),
    "Identity/changes": v.looseObject(changes),
    "Identity/set": v.looseObject(set),
  },
};
