/**
 * Blob/upload and Blob/lookup (RFC 9404 §4.1, §4.3). An upload is built from data sources — text,
 * base64, or a range of a blob this account may read (also one created earlier in the request,
 * "#creationId") — and stored as uploads are (content-addressed, for the account). A lookup
 * names the Emails, Mailboxes and Threads whose emails hold a blob.
 */
import type { Store } from "../../store/store.ts";
import { blobIdOf, parseBlobId, readBlob } from "./blob.ts";
import { emailId } from "./email.ts";
import { accountJmapId, checkAccount, type JmapAccount, mailboxId } from "./mailbox.ts";
import { type CallContext, MethodError } from "./request.ts";
import type { SetError } from "./submission-plan.ts";

/** RFC 9404 §4.1 maxSizeBlobSet (the same as an HTTP upload), and maxDataSources. */
export const MAX_BLOB_SET = 50_000_000;
export const MAX_DATA_SOURCES = 64;
/** RFC 9404 §4.3: the types whose objects a blob can be looked up in. */
export const LOOKUP_TYPES = ["Email", "Mailbox", "Thread"];

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const invalid = (property: string, description: string): SetError => ({
  type: "invalidProperties",
  description,
  properties: [property],
});

/** The bytes an UploadObject's data sources make, or the SetError of the first bad one. */
async function assemble(
  store: Store,
  account: JmapAccount,
  spec: Record<string, unknown>,
  real: (blobId: string) => string,
): Promise<Uint8Array | SetError> {
  const sources = spec.data;
  if (!Array.isArray(sources) || sources.length === 0) return invalid("data", "data is a non-empty list of sources");
  if (sources.length > MAX_DATA_SOURCES) return { type: "tooLarge", description: "Too many data sources" };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (const [i, source] of sources.entries()) {
    const where = `data/${i}`;
    const s = (source ?? {}) as Record<string, unknown>;
    const keys = typeof source === "object" && source !== null && !Array.isArray(source) ? Object.keys(s) : [];
    let bytes: Uint8Array;
    if (keys.length === 1 && typeof s["data:asText"] === "string") {
      bytes = new TextEncoder().encode(s["data:asText"]);
    } else if (keys.length === 1 && typeof s["data:asBase64"] === "string") {
      const text = s["data:asBase64"].replace(/\s+/g, "");
      if (!BASE64.test(text) || text.length % 4 === 1) return invalid(where, "Not base64");
      bytes = new Uint8Array(Buffer.from(text, "base64"));
    } else if (typeof s.blobId === "string" && keys.every((k) => ["blobId", "offset", "length"].includes(k))) {
      const offset = s.offset ?? 0;
      const length = s.length ?? null;
      const unsigned = (n: unknown) => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;
      if (!unsigned(offset) || (length !== null && !unsigned(length))) {
        return invalid(where, "offset and length are unsigned integers");
      }
      const blob = await readBlob(store, account, real(s.blobId));
      if (!blob) return { type: "blobNotFound", description: `No blob ${s.blobId}`, notFound: [s.blobId] };
      const end = length === null ? blob.length : (offset as number) + (length as number);
      // §4.1: a range that is not all inside the blob is refused.
      if ((offset as number) > blob.length || end > blob.length) return invalid(where, "The range is outside the blob");
      bytes = blob.subarray(offset as number, end);
    } else {
      return invalid(where, "A source is data:asText, data:asBase64, or blobId with offset and length");
    }
    size += bytes.length;
    if (size > MAX_BLOB_SET) return { type: "tooLarge", description: `Blobs are limited to ${MAX_BLOB_SET} octets` };
    chunks.push(bytes);
  }
  return Buffer.concat(chunks);
}

export async function blobUpload(
  store: Store,
  account: JmapAccount,
  args: Record<string, unknown>,
  context: CallContext,
) {
  checkAccount(args, account);
  const created: Record<string, { id: string; type: string; size: number }> = {};
  const notCreated: Record<string, SetError> = {};
  // §4.1: "#creationId" names a blob made earlier in this call or in an earlier call.
  const real = (blobId: string) =>
    blobId.startsWith("#") ? created[blobId.slice(1)]?.id ?? context.createdIds.get(blobId.slice(1)) ?? blobId : blobId;
  for (const [key, value] of Object.entries(args.create as Record<string, unknown>)) {
    const spec = (value ?? {}) as Record<string, unknown>;
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      notCreated[key] = invalid("", "An UploadObject");
      continue;
    }
    const extra = Object.keys(spec).find((k) => k !== "data" && k !== "type");
    if (extra) {
      notCreated[key] = invalid(extra, `${extra} cannot be set`);
      continue;
    }
    if (spec.type !== undefined && spec.type !== null && typeof spec.type !== "string") {
      notCreated[key] = invalid("type", "type is a media type or null");
      continue;
    }
    const bytes = await assemble(store, account, spec, real);
    if (!(bytes instanceof Uint8Array)) {
      notCreated[key] = bytes;
      continue;
    }
    // Acknowledged once the blob has committed.
    const hash = await store.mail.upload(account.id, bytes);
    created[key] = {
      id: blobIdOf(hash),
      type: (spec.type as string | null | undefined) ?? "application/octet-stream",
      size: bytes.length,
    };
  }
  return {
    accountId: accountJmapId(account.id),
    created: Object.keys(created).length ? created : null,
    notCreated: Object.keys(notCreated).length ? notCreated : null,
  };
}

export async function blobLookup(store: Store, account: JmapAccount, args: Record<string, unknown>) {
  checkAccount(args, account);
  const typeNames = args.typeNames as string[];
  const unknown = typeNames.find((t) => !LOOKUP_TYPES.includes(t));
  if (unknown) throw new MethodError("unknownDataType", `Blobs cannot be looked up in ${unknown}`);
  const emails = await store.emails.all(account.id);
  const list: Array<{ id: string; matchedIds: Record<string, string[]> }> = [];
  const notFound: string[] = [];
  for (const id of new Set(args.ids as string[])) {
    const ref = parseBlobId(id);
    if (!ref || !(await readBlob(store, account, id))) {
      notFound.push(id);
      continue;
    }
    // The whole message or one of its parts: the emails stored as that message hold it.
    const holding = emails.filter((e) => e.blobHash === ref.hash);
    const ids: Record<string, string[]> = {
      Email: holding.map((e) => emailId(e.id)),
      Mailbox: [...new Set(holding.flatMap((e) => e.mailboxIds))].map(mailboxId),
      Thread: [...new Set(holding.map((e) => e.threadId))],
    };
    list.push({ id, matchedIds: Object.fromEntries(typeNames.map((t) => [t, ids[t]!])) });
  }
  return { accountId: accountJmapId(account.id), list, notFound };
}
