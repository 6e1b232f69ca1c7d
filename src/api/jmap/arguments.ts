/**
 * The arguments of every JMAP method, from the description of each data type (types/*.ts).
 * `checkArguments` runs before the method: a wrong type, a missing required argument or a bad
 * filter shape is `invalidArguments` naming the argument (RFC 8620 §3.6.2). What each object of
 * a /set holds is the method's to check: a bad one is a SetError for that object, not for the call.
 */
import * as v from "valibot";
import { MethodError } from "./method-error.ts";
import type { DataType } from "./schemas.ts";
import { ALIAS } from "./types/alias.ts";
import { BLOB_TYPE } from "./types/blob.ts";
import { EMAIL } from "./types/email.ts";
import { EMAIL_SUBMISSION } from "./types/email-submission.ts";
import { IDENTITY } from "./types/identity.ts";
import { MAILBOX } from "./types/mailbox.ts";
import { PUSH_SUBSCRIPTION } from "./types/push-subscription.ts";
import { QUOTA_TYPE } from "./types/quota.ts";
import { SEARCH_SNIPPET } from "./types/search-snippet.ts";
import { SIEVE_SCRIPT } from "./types/sieve-script.ts";
import { THREAD } from "./types/thread.ts";
import { VACATION_RESPONSE } from "./types/vacation-response.ts";

const TYPES: DataType[] = [
  MAILBOX,
  THREAD,
  EMAIL,
  SEARCH_SNIPPET,
  IDENTITY,
  EMAIL_SUBMISSION,
  VACATION_RESPONSE,
  QUOTA_TYPE,
  BLOB_TYPE,
  PUSH_SUBSCRIPTION,
  ALIAS,
  SIEVE_SCRIPT,
];
const ARGUMENTS: Record<string, v.GenericSchema> = Object.assign({}, ...TYPES.map((t) => t.methods));

/** Throws invalidArguments naming the first argument that does not fit the method's schema. */
export function checkArguments(name: string, args: Record<string, unknown>): void {
  const schema = ARGUMENTS[name];
  if (!schema) return;
  const result = v.safeParse(schema, args, { abortEarly: true });
  if (result.success) return;
  const issue = result.issues[0];
  const path = v.getDotPath(issue) ?? "arguments";
  // A missing argument reads "Invalid type: Expected … but received undefined": say so plainly.
  const missing = issue.input === undefined && issue.kind === "schema";
  throw new MethodError("invalidArguments", missing ? `${path} is required` : `${path}: ${issue.message}`);
}
