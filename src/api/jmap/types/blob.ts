/**
 * The Blob data type (RFC 9404): bytes by their blobId. Blob/get properties are `data`,
 * `data:asText`, `data:asBase64`, `size` and `digest:<algorithm>` (those of DIGESTS).
 */
import * as v from "valibot";
import { accountArgs, type DataType, get, Id, List, Objects, optional, UnsignedInt } from "../schemas.ts";

/** RFC 9404 §4.2: the digest algorithms Blob/get offers, by their IANA names, and node's names for them. */
export const DIGESTS: Record<string, string> = { "sha": "sha1", "sha-256": "sha256", "sha-512": "sha512" };

export const BLOB_TYPE: DataType = {
  properties: {
    id: "server",
    data: "server",
    "data:asText": "server",
    "data:asBase64": "server",
    size: "server",
    ...Object.fromEntries(Object.keys(DIGESTS).map((d) => [`digest:${d}`, "server" as const])),
  },
  defaultProperties: ["data", "size"],
  methods: {
    "Blob/get": v.looseObject({ ...get, ids: List, offset: optional(UnsignedInt), length: optional(UnsignedInt) }),
    // RFC 8620 §6.3.
    "Blob/copy": v.looseObject({ fromAccountId: Id, ...accountArgs, blobIds: optional(List) }),
    // RFC 9404 §4.1, §4.3.
    "Blob/upload": v.looseObject({ ...accountArgs, create: Objects }),
    "Blob/lookup": v.looseObject({ ...accountArgs, typeNames: List, ids: List }),
  },
};
