/**
 * What a script sees of a message (RFC 5228 §2.5): its header fields, envelope, size and, on demand, body text for
 * the body test (RFC 5173). `messageView` builds one from the raw bytes; delivery code may build its own.
 */
import { decodeCharset } from "../mime/charset.ts";
import { parseHeaderFields, splitHeaderBody } from "../mime/header.ts";
import { htmlToText, partText } from "../mime/preview.ts";
import { type MimePart, parseStructure } from "../mime/structure.ts";

export interface SieveHeader {
  name: string;
  /** Unfolded, undecoded (RFC 2047 words are decoded by the tests). */
  value: string;
}

/** RFC 5173 §5 body transforms. */
export type BodyTransform = { kind: "raw" } | { kind: "content"; types: string[] } | { kind: "text" };

export interface SieveEnvelope {
  /** The reverse path without angle brackets; "" for the null sender. */
  from: string;
  /** The recipient this run is for. */
  to: string;
  /** The authenticated identity that submitted the message, if any (RFC 5228 §5.4 "auth"). */
  auth?: string | null;
}

export interface SieveMessage {
  size: number;
  headers: readonly SieveHeader[];
  envelope: SieveEnvelope;
  /** The texts the body test matches against; called only when a script uses it. */
  body(transform: BodyTransform): string[];
}

/** A view over raw message bytes. */
export function messageView(raw: Uint8Array, envelope: SieveEnvelope): SieveMessage {
  const { headerEnd } = splitHeaderBody(raw);
  const headers = parseHeaderFields(raw.subarray(0, headerEnd)).map((f) => ({ name: f.name, value: f.value }));
  let root: MimePart | null = null;
  return {
    size: raw.length,
    headers,
    envelope,
    body(transform) {
      if (transform.kind === "raw") {
        return [decodeCharset(raw.subarray(splitHeaderBody(raw).bodyStart), "utf-8")];
      }
      root ??= parseStructure(raw);
      const types = transform.kind === "text" ? ["text"] : transform.types.map((t) => t.toLowerCase());
      const out: string[] = [];
      for (const part of leaves(root)) {
        if (!types.some((t) => typeMatches(t, part))) continue;
        const text = partText(raw, part);
        // RFC 5173 §5.3: :text gives the text of each text part; HTML is turned into text (as Pigeonhole does).
        out.push(transform.kind === "text" && part.subtype === "html" ? htmlText(text) : text);
      }
      return out;
    },
  };
}

/** HTML as text: tags dropped, white space runs made one space, trimmed (what Pigeonhole's :text gives). */
function htmlText(html: string): string {
  return htmlToText(html).replace(/\s+/g, " ").trim();
}

/** RFC 5173 §5.2: "" matches every part, "type" any subtype, "type/subtype" exactly. */
function typeMatches(wanted: string, part: MimePart): boolean {
  if (wanted === "") return true;
  const [type, subtype] = wanted.split("/");
  if (type !== part.type) return false;
  return subtype === undefined || subtype === part.subtype;
}

function* leaves(part: MimePart): Generator<MimePart> {
  if (part.parts) { for (const p of part.parts) yield* leaves(p); }
  else if (part.message) yield* leaves(part.message.body);
  else yield part;
}
