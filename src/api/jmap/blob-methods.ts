/**
 * Blob/get (RFC 9404 §4.2) and Blob/copy (RFC 8620 §6.3) over the blobs this account may read
 * (blob.ts): its emails, their parts and its uploads — another account's are notFound.
 */
import { createHash } from "node:crypto";
import { strictUtf8 } from "../../mime/charset.ts";
import type { Store } from "../../store/store.ts";
import { readBlob } from "./blob.ts";
import { accountJmapId, checkAccount, type JmapAccount } from "./mailbox.ts";
import { type CallContext, MethodError } from "./request.ts";
import { blobLookup, blobUpload, LOOKUP_TYPES, MAX_BLOB_SET, MAX_DATA_SOURCES } from "./blob-upload.ts";
import { requestedProperties } from "./schemas.ts";
import { BLOB_TYPE, DIGESTS } from "./types/blob.ts";

export const BLOB = "urn:ietf:params:jmap:blob";

/** RFC 9404 §4.1: the digest algorithms, by their names in the IANA HTTP Digest registry. */
export const BLOB_CAPABILITY = {
  maxSizeBlobSet: MAX_BLOB_SET,
  maxDataSources: MAX_DATA_SOURCES,
  supportedTypeNames: LOOKUP_TYPES,
  supportedDigestAlgorithms: Object.keys(DIGESTS),
};

export function blobMethods(store: Store, account: JmapAccount) {
  return {
    "Blob/upload": (args: Record<string, unknown>, context: CallContext) => blobUpload(store, account, args, context),
    "Blob/lookup": (args: Record<string, unknown>) => blobLookup(store, account, args),

    async "Blob/get"(args: Record<string, unknown>) {
      checkAccount(args, account);
      // Types checked by schemas.ts.
      const ids = args.ids as string[];
      const properties = requestedProperties(BLOB_TYPE, args.properties) ?? BLOB_TYPE.defaultProperties!;
      const offset = (args.offset as number | null | undefined) ?? 0;
      const length = (args.length as number | null | undefined) ?? null;
      const list: Array<Record<string, unknown>> = [];
      const notFound: string[] = [];
      for (const id of new Set(ids)) {
        const bytes = await readBlob(store, account, id);
        if (!bytes) {
          notFound.push(id);
          continue;
        }
        // §4.2: offset and length select a range; one that runs past the end is truncated.
        const end = length === null ? bytes.length : offset + length;
        const range = bytes.subarray(Math.min(offset, bytes.length), Math.min(end, bytes.length));
        const object: Record<string, unknown> = { id };
        const text = strictUtf8(range);
        let problem = false;
        for (const p of properties) {
          if (p === "size") object.size = bytes.length;
          else if (p === "data:asBase64" || (p === "data" && text === null)) {
            object["data:asBase64"] = Buffer.from(range).toString("base64");
          } else if (p === "data:asText" || p === "data") {
            object["data:asText"] = text;
            problem ||= text === null;
          } else {
            const algorithm = DIGESTS[p.slice("digest:".length)]!;
            object[p] = createHash(algorithm).update(range).digest("base64");
          }
        }
        if (properties.some((p) => p.startsWith("data"))) {
          object.isEncodingProblem = problem;
          object.isTruncated = end > bytes.length || offset > bytes.length;
        }
        list.push(object);
      }
      return { accountId: accountJmapId(account.id), list, notFound };
    },

    /** A session here reaches one account: a copy from it to itself keeps the id; others are not found. */
    async "Blob/copy"(args: Record<string, unknown>) {
      checkAccount(args, account);
      if (args.fromAccountId !== accountJmapId(account.id)) {
        throw new MethodError("fromAccountNotFound", `No account ${String(args.fromAccountId)} is accessible`);
      }
      const ids = (args.blobIds as string[] | null | undefined) ?? [];
      const copied: Record<string, string> = {};
      const notCopied: Record<string, { type: string }> = {};
      for (const id of ids) {
        if (await readBlob(store, account, id)) copied[id] = id;
        else notCopied[id] = { type: "blobNotFound" };
      }
      return {
        fromAccountId: args.fromAccountId,
        accountId: accountJmapId(account.id),
        copied: Object.keys(copied).length ? copied : null,
        notCopied: Object.keys(notCopied).length ? notCopied : null,
      };
    },
  };
}
