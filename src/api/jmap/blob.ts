/**
 * JMAP blobs (RFC 8620 §6): ids, reading them for one account, and the download response.
 * A blobId is `B<sha256>` for a stored message or upload, and `B<sha256>.<partId>` for one body
 * part of it (the IMAP part path Email/get hands out): the part's content with its
 * Content-Transfer-Encoding undone (RFC 8621 §4.1.4, "the raw octets of the contents").
 */
import { decodePartBody } from "../../mime/summary.ts";
import { parseStructure, partAt } from "../../mime/structure.ts";
import type { Store } from "../../store/store.ts";
import type { JmapAccount } from "./mailbox.ts";

export interface BlobRef {
  hash: string;
  /** The IMAP part path, or null for the whole blob. */
  partId: string | null;
}

export const blobIdOf = (hash: string, partId?: string) => (partId ? `B${hash}.${partId}` : `B${hash}`);

export function parseBlobId(blobId: unknown): BlobRef | null {
  if (typeof blobId !== "string") return null;
  const match = /^B([0-9a-f]{64})(?:\.([1-9]\d{0,5}(?:\.[1-9]\d{0,5}){0,49}))?$/.exec(blobId);
  return match ? { hash: match[1]!, partId: match[2] ?? null } : null;
}

/**
 * The bytes of a blob this account may read (one of its emails or uploads holds it), or null
 * when there is none such: another account's blob is as unknown as one that never existed.
 */
export async function readBlob(store: Store, account: JmapAccount, blobId: unknown): Promise<Uint8Array | null> {
  const ref = parseBlobId(blobId);
  if (!ref || !(await store.emails.ownsBlob(account.id, ref.hash))) return null;
  const raw = await store.emails.readBlob(ref.hash);
  if (!raw) return null;
  if (ref.partId === null) return raw;
  const part = partAt(parseStructure(raw), ref.partId);
  // A multipart has no content of its own to download.
  return part && !part.parts ? decodePartBody(raw, part) : null;
}

/** A media type with optional parameters (RFC 2045 §5.1), nothing that could end a header. */
const MEDIA_TYPE =
  /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+(?:\s*;\s*[a-z0-9!#$&^_.+-]+=(?:"[^"\\\x00-\x1f\x7f]*"|[a-z0-9!#$&^_.+-]+))*$/i;

/** Types a browser may show inline without running anything (RFC 8620 §6.2 leaves this to the server). */
const INLINE = /^(?:image\/(?:png|jpeg|gif|webp|bmp)|audio\/[a-z0-9.+-]+|video\/[a-z0-9.+-]+|text\/plain)\s*(?:;|$)/i;

/** RFC 8187 attr-char: everything else of a UTF-8 name is percent-encoded. */
function extValue(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The headers of a download (RFC 8620 §6.2): the `type` the client asked for when it is a media
 * type, the `name` as the file name (RFC 6266, with an ASCII fallback), and nothing that lets a
 * browser run the content in the API's origin.
 */
export function downloadHeaders(type: string | undefined, name: string): Record<string, string> {
  const contentType = type && MEDIA_TYPE.test(type) ? type : "application/octet-stream";
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return {
    "content-type": contentType,
    "content-disposition": `${
      INLINE.test(contentType) ? "inline" : "attachment"
    }; filename="${ascii}"; filename*=UTF-8''${extValue(name)}`,
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "cache-control": "private, immutable, max-age=31536000",
  };
}
