/**
 * CATENATE (RFC 4469): an APPEND message made of TEXT literals and IMAP URLs (RFC 5092) naming messages or parts
 * of messages in the account's own mailboxes. A URL that is not one of those gets `NO [BADURL "url"]`
 * (RFC 4469 §5); a result over the message size limit gets `NO [TOOBIG]`.
 */
import { concatBytes } from "../util/bytes.ts";
import type { CatenatePart, Section } from "./commands.ts";
import { type Completion, type HandlerContext, no } from "./context.ts";
import { section } from "./fetch.ts";
import { decodeMailboxName } from "./mailbox-name.ts";

/** An IMAP URL naming a message or a part of one (RFC 5092 §2, `imessagepart`). */
export interface ImapUrl {
  mailbox: string;
  uidValidity: number | null;
  uid: number;
  section: Section | null;
  partial: { offset: number; length: number | null } | null;
}

/**
 * `[/;SECTION=s][/;PARTIAL=o[.l]]` after the UID; the "/" before ";SECTION" is taken as optional, and the
 * keys are case-insensitive (RFC 4469's own example writes ";section=").
 */
const MESSAGE_PART = new RegExp(
  "^/([^;]+?)(?:;UIDVALIDITY=([1-9][0-9]{0,9}))?/;UID=([1-9][0-9]{0,9})" +
    "(?:/?;SECTION=([^/;]+))?(?:/;PARTIAL=([0-9]{1,10})(?:\\.([1-9][0-9]{0,9}))?)?$",
  "i",
);

/**
 * Parses the URL forms CATENATE takes: relative to this server and account (`/INBOX;UIDVALIDITY=n/;UID=m`, RFC
 * 5092 §7.2), or absolute (`imap://user@host/...`) when its user is the logged-in account. Null for any other.
 */
export function parseImapUrl(url: string, account: string): ImapUrl | null {
  let path = url;
  const absolute = /^imap:\/\/(?:([^@/]*)@)?[^/@]+(\/.*)$/i.exec(url);
  if (absolute) {
    // RFC 5092 §3.2: enc-user [";AUTH=" ...]; another user's mailboxes are not this session's to read.
    const user = percentDecode(absolute[1]?.split(";")[0] ?? "");
    if (user === null || user.toLowerCase() !== account.toLowerCase()) return null;
    path = absolute[2]!;
  } else if (/^[a-z][a-z0-9+.-]*:/i.test(url)) return null;
  const m = MESSAGE_PART.exec(path);
  if (!m) return null;
  const name = percentDecode(m[1]!);
  if (name === null) return null;
  const parsedSection = m[4] === undefined ? null : parseSection(percentDecode(m[4]) ?? "");
  if (parsedSection === undefined) return null;
  return {
    mailbox: name.toUpperCase() === "INBOX" ? "INBOX" : name,
    uidValidity: m[2] ? Number(m[2]) : null,
    uid: Number(m[3]),
    section: parsedSection,
    partial: m[5] === undefined ? null : { offset: Number(m[5]), length: m[6] ? Number(m[6]) : null },
  };
}

/** `1.2`, `HEADER`, `TEXT`, `1.MIME`, `2.HEADER` (RFC 5092 `enc-section`, as FETCH's section-spec); else undefined. */
function parseSection(text: string): Section | undefined {
  const tokens = text.toUpperCase().split(".");
  const part: number[] = [];
  while (tokens.length && /^[1-9][0-9]{0,8}$/.test(tokens[0]!)) part.push(Number(tokens.shift()));
  const rest = tokens.join(".");
  if (rest === "") return part.length ? { part, text: null } : undefined;
  if (rest === "HEADER" || rest === "TEXT") return { part, text: rest };
  if (rest === "MIME" && part.length) return { part, text: "MIME" };
  return undefined;
}

function percentDecode(text: string): string | null {
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

/** The bytes a URL names in the account's mailboxes, or null when it names nothing there. */
async function fetchUrl(ctx: HandlerContext, text: string): Promise<Uint8Array | null> {
  const url = parseImapUrl(text, ctx.account.address);
  if (!url) return null;
  // RFC 5092 names mailboxes in UTF-8; an older client may send modified UTF-7 (RFC 2192).
  const names = [url.mailbox, decodeMailboxName(url.mailbox)];
  const mailboxes = await ctx.backend.mailboxes(ctx.account);
  const box = mailboxes.find((m) => m.name === names[0]) ?? mailboxes.find((m) => m.name === names[1]);
  if (!box || (url.uidValidity !== null && url.uidValidity !== box.uidValidity)) return null;
  const stored = (await ctx.backend.summaries(box.id, [url.uid])).get(url.uid);
  const raw = stored ? await ctx.backend.raw(box.id, url.uid) : null;
  if (!stored || !raw) return null;
  const bytes = url.section ? section({ ...stored, seq: 0, raw }, url.section) : raw;
  if (!bytes || !url.partial) return bytes;
  const { offset, length } = url.partial;
  return bytes.subarray(offset, length === null ? undefined : offset + length);
}

/** The message a CATENATE list makes (RFC 4469 §3), or the completion refusing it. */
export async function catenate(
  ctx: HandlerContext,
  parts: readonly CatenatePart[],
  limit: number,
): Promise<{ ok: true; message: Uint8Array } | { ok: false; completion: Completion }> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (const part of parts) {
    const bytes = part.kind === "text" ? part.bytes : await fetchUrl(ctx, part.url);
    if (bytes === null) {
      return { ok: false, completion: no("The URL names no message of this account", `BADURL ${urlCode(part)}`) };
    }
    size += bytes.length;
    if (size > limit) return { ok: false, completion: no("The message would be too large", "TOOBIG") };
    chunks.push(bytes);
  }
  return { ok: true, message: concatBytes(chunks) };
}

/** The URL as a quoted string fit for a response code (no "]", CR, LF or other controls). */
function urlCode(part: CatenatePart): string {
  const url = part.kind === "url" ? part.url : "";
  return `"${url.replace(/[^\x20-\x7e]|\]/g, "").replace(/["\\]/g, "\\$&")}"`;
}
