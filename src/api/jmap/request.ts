/**
 * The JMAP request envelope (RFC 8620 §3): validation of `using` and `methodCalls`, result
 * references (§3.7, JSON pointers with `*`), and dispatch with per-method errors.
 */
import { checkArguments } from "./arguments.ts";
import { MethodError } from "./method-error.ts";

export type Invocation = [string, Record<string, unknown>, string];

export { MethodError } from "./method-error.ts";

/**
 * What a method hears of the request around it: the ids of objects created by earlier calls, by
 * creation id (RFC 8620 §5.3: "#creationId" stands for them anywhere in the same request).
 */
export interface CallContext {
  createdIds: Map<string, string>;
}

/** A response followed by those of calls the method made implicitly (RFC 8621 §7.5), with the same call id. */
export class WithImplicit {
  constructor(
    readonly response: Record<string, unknown>,
    readonly implicit: ReadonlyArray<[string, Record<string, unknown>]>,
  ) {}
}

export type Method = (
  args: Record<string, unknown>,
  context: CallContext,
) => Promise<Record<string, unknown> | WithImplicit>;

export const CAPABILITIES = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"] as const;

/** The capability that defines each data type's methods (RFC 8620 §3.3: one not in `using` is unknownMethod). */
const CAPABILITY_OF: Record<string, string> = {
  Core: "urn:ietf:params:jmap:core",
  Mailbox: "urn:ietf:params:jmap:mail",
  Email: "urn:ietf:params:jmap:mail",
  Thread: "urn:ietf:params:jmap:mail",
  SearchSnippet: "urn:ietf:params:jmap:mail",
  Identity: "urn:ietf:params:jmap:submission",
  EmailSubmission: "urn:ietf:params:jmap:submission",
  VacationResponse: "urn:ietf:params:jmap:vacationresponse",
  Quota: "urn:ietf:params:jmap:quota",
  Blob: "urn:ietf:params:jmap:blob",
  Alias: "urn:postern:aliases",
  SieveScript: "urn:ietf:params:jmap:sieve",
  // RFC 8620 §7.2 and §6.3: PushSubscription and Blob/copy are core.
  PushSubscription: "urn:ietf:params:jmap:core",
  "Blob/copy": "urn:ietf:params:jmap:core",
};

/** A UTCDate (RFC 8620 §1.4): "Z", and no fraction when it is zero. */
export const utcDate = (date: Date) => date.toISOString().replace(/\.000Z$/, "Z");

/**
 * A Date (RFC 8620 §1.4, RFC 3339 date-time) in the zone it was written in: the wall-clock time
 * there and its offset ("+02:00"; "Z" for UTC).
 */
export function zonedDate(time: number, offset: number): string {
  const local = utcDate(new Date(time + offset * 60_000));
  if (offset === 0) return local;
  const abs = Math.abs(offset);
  const zone = `${offset < 0 ? "-" : "+"}${String(Math.floor(abs / 60)).padStart(2, "0")}:${
    String(abs % 60).padStart(2, "0")
  }`;
  return local.replace(/Z$/, zone);
}

export type RequestError = { type: string; status: number; detail: string };

export function checkRequest(
  body: unknown,
  known: readonly string[] = CAPABILITIES,
): { using: string[]; methodCalls: Invocation[] } | RequestError {
  const notRequest = (detail: string): RequestError => ({
    type: "urn:ietf:params:jmap:error:notRequest",
    status: 400,
    detail,
  });
  if (typeof body !== "object" || body === null) return notRequest("The request is not a JSON object");
  const { using, methodCalls } = body as { using?: unknown; methodCalls?: unknown };
  if (!Array.isArray(using) || !using.every((u) => typeof u === "string")) {
    return notRequest("using must be an array of strings");
  }
  if (!Array.isArray(methodCalls)) return notRequest("methodCalls must be an array");
  for (const call of methodCalls) {
    if (
      !Array.isArray(call) || call.length !== 3 || typeof call[0] !== "string" || typeof call[1] !== "object" ||
      call[1] === null || typeof call[2] !== "string"
    ) {
      return notRequest("Each method call is [name, arguments, callId]");
    }
  }
  const unknown = using.find((u: string) => !known.includes(u));
  if (unknown) {
    return {
      type: "urn:ietf:params:jmap:error:unknownCapability",
      status: 400,
      detail: `Unknown capability ${unknown}`,
    };
  }
  if (methodCalls.length > 64) {
    return { type: "urn:ietf:params:jmap:error:limit", status: 400, detail: "At most 64 method calls per request" };
  }
  return { using, methodCalls: methodCalls as Invocation[] };
}

/** Evaluates a JSON pointer with the JMAP `*` extension (RFC 8620 §3.7). */
export function evaluatePointer(value: unknown, pointer: string): unknown {
  if (pointer === "") return value;
  const [head, ...rest] = pointer.replace(/^\//, "").split("/");
  const token = head!.replace(/~1/g, "/").replace(/~0/g, "~");
  const restPointer = rest.length ? `/${rest.join("/")}` : "";
  if (token === "*") {
    if (!Array.isArray(value)) {
      throw new MethodError("invalidResultReference", "* applied to something that is not an array");
    }
    return value.flatMap((item) => {
      const r = evaluatePointer(item, restPointer);
      return Array.isArray(r) ? r : [r];
    });
  }
  if (typeof value !== "object" || value === null || !(token in value)) {
    throw new MethodError("invalidResultReference", `No ${token} in the referenced result`);
  }
  return evaluatePointer((value as Record<string, unknown>)[token], restPointer);
}

/** Replaces `#name` arguments by the values they reference in earlier responses. */
export function resolveReferences(
  args: Record<string, unknown>,
  responses: readonly Invocation[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (!key.startsWith("#")) {
      out[key] = value;
      continue;
    }
    const name = key.slice(1);
    if (name in args) throw new MethodError("invalidArguments", `Both ${name} and #${name} given`);
    const ref = value as { resultOf?: string; name?: string; path?: string };
    const source = responses.find((r) => r[2] === ref.resultOf && r[0] === ref.name);
    if (!source || typeof ref.path !== "string") {
      throw new MethodError("invalidResultReference", `No ${ref.name} response for ${ref.resultOf}`);
    }
    out[name] = evaluatePointer(source[1], ref.path);
  }
  return out;
}

/** Remembers the ids a /set response created, by creation id (RFC 8620 §5.3). */
function recordCreated(response: Record<string, unknown>, createdIds: Map<string, string>): void {
  const created = response.created;
  if (typeof created !== "object" || created === null) return;
  for (const [key, object] of Object.entries(created)) {
    const id = (object as { id?: unknown } | null)?.id;
    if (typeof id === "string") createdIds.set(key, id);
  }
}

export async function runCalls(
  calls: readonly Invocation[],
  methods: Record<string, Method>,
  using: readonly string[] = [...CAPABILITIES],
): Promise<Invocation[]> {
  const responses: Invocation[] = [];
  const context: CallContext = { createdIds: new Map() };
  for (const [name, args, callId] of calls) {
    const capability = CAPABILITY_OF[name] ?? CAPABILITY_OF[name.split("/")[0]!];
    const method = capability && using.includes(capability) ? methods[name] : undefined;
    if (!method) {
      responses.push(["error", { type: "unknownMethod", description: `No method ${name}` }, callId]);
      continue;
    }
    try {
      const resolved = resolveReferences(args, responses);
      checkArguments(name, resolved);
      const result = await method(resolved, context);
      const [response, implicit] = result instanceof WithImplicit ? [result.response, result.implicit] : [result, []];
      for (const [n, r] of [[name, response] as const, ...implicit]) {
        recordCreated(r, context.createdIds);
        responses.push([n, r, callId]);
      }
    } catch (e) {
      if (e instanceof MethodError) responses.push(["error", { type: e.type, description: e.message }, callId]);
      else responses.push(["error", { type: "serverFail", description: (e as Error).message }, callId]);
    }
  }
  return responses;
}
