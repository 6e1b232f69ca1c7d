/** The VacationResponse data type (RFC 8621 §8): one object per account, "singleton". */
import * as v from "valibot";
import { type DataType, get, set } from "../schemas.ts";

export const VACATION_RESPONSE: DataType = {
  properties: {
    id: "server",
    isEnabled: "update",
    fromDate: "update",
    toDate: "update",
    subject: "update",
    textBody: "update",
    htmlBody: "update",
  },
  methods: {
    "VacationResponse/get": v.looseObject(get),
    "VacationResponse/set": v.looseObject(set),
  },
};
