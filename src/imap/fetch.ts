/**
 * One message's FETCH response (RFC 9051 §7.5.2) from its stored row, summary and raw bytes.
 * Sections are cut from the blob by the byte offsets computed at delivery.
 */
import { decodeTransfer } from "../mime/decode.ts";
import { splitHeaderBody } from "../mime/header.ts";
import { type MimePart, partAt } from "../mime/structure.ts";
import type { MessageSummary } from "../mime/summary.ts";
import type { FetchItem, Section } from "./commands.ts";
import { sectionText } from "./fetch-items.ts";
import { bodyStructure, envelope, nstring } from "./response.ts";

export interface FetchSource {
  seq: number;
  uid: number;
  flags: string[];
  modseq: number;
  size: number;
  internalDate: Date;
  summary: MessageSummary | null;
  raw: Uint8Array | null;
  /** OBJECTID (RFC 8474). */
  emailId?: string;
  threadId?: string;
  /** SAVEDATE (RFC 8514), when the items ask for it. */
  saveDate?: Date | null;
}

const enc = new TextEncoder();
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/** Whether the items need the stored summary, the raw message, or set \Seen. */
export function fetchNeeds(items: readonly FetchItem[]): { summary: boolean; raw: boolean; seen: boolean } {
  const summary = items.some((i) =>
    i.item === "ENVELOPE" || i.item === "BODYSTRUCTURE" || i.item === "BODY" ||
    (i.item.startsWith("B") && "section" in i && i.section.part.length > 0)
  );
  const raw = items.some((i) =>
    (i.item.startsWith("RFC822") && i.item !== "RFC822.SIZE") || i.item === "BODY[]" || i.item === "BINARY[]" ||
    i.item === "BINARY.SIZE"
  );
  const seen = items.some((i) =>
    i.item === "RFC822" || i.item === "RFC822.TEXT" || ((i.item === "BODY[]" || i.item === "BINARY[]") && !i.peek)
  );
  return { summary, raw, seen };
}

/** "17-Jul-1996 02:44:25 +0000" (RFC 9051 date-time), in UTC. */
export function formatInternalDate(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  return `${two(date.getUTCDate())}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${two(date.getUTCHours())}:${
    two(date.getUTCMinutes())
  }:${two(date.getUTCSeconds())} +0000`;
}

/** The untagged FETCH response as chunks (text and literal bytes). `utf8`: UTF8=ACCEPT enabled. */
export function fetchResponse(
  source: FetchSource,
  items: readonly FetchItem[],
  options: { utf8: boolean; uid: boolean; condstore: boolean },
): Array<string | Uint8Array> {
  const parts: Array<string | Uint8Array> = [];
  const add = (text: string) => parts.push(parts.length ? ` ${text}` : text);
  const literal = (name: string, bytes: Uint8Array) => {
    add(`${name} {${bytes.length}}\r\n`);
    parts.push(bytes);
  };
  let uidDone = false;
  let modseqDone = false;
  for (const item of items) {
    switch (item.item) {
      case "UID":
        add(`UID ${source.uid}`);
        uidDone = true;
        break;
      case "FLAGS":
        add(`FLAGS (${source.flags.join(" ")})`);
        break;
      case "INTERNALDATE":
        add(`INTERNALDATE "${formatInternalDate(source.internalDate)}"`);
        break;
      case "RFC822.SIZE":
        add(`RFC822.SIZE ${source.size}`);
        break;
      case "MODSEQ":
        add(`MODSEQ (${source.modseq})`);
        modseqDone = true;
        break;
      case "ENVELOPE":
        add(`ENVELOPE ${envelope(source.summary!.envelope, options.utf8)}`);
        break;
      case "EMAILID":
        add(`EMAILID (${source.emailId})`);
        break;
      case "THREADID":
        add(source.threadId ? `THREADID (${source.threadId})` : "THREADID NIL");
        break;
      case "SAVEDATE":
        add(source.saveDate ? `SAVEDATE "${formatInternalDate(source.saveDate)}"` : "SAVEDATE NIL");
        break;
      case "PREVIEW":
        // RFC 8970 §3.2: UTF-8 text, as a literal where a quoted string may not carry it.
        add(`PREVIEW ${nstring(source.summary?.preview ?? null, options.utf8)}`);
        break;
      case "BODYSTRUCTURE":
        add(`BODYSTRUCTURE ${bodyStructure(source.summary!.body, true, options.utf8)}`);
        break;
      case "BODY":
        add(`BODY ${bodyStructure(source.summary!.body, false, options.utf8)}`);
        break;
      case "RFC822":
        literal("RFC822", source.raw!);
        break;
      case "RFC822.HEADER":
        literal("RFC822.HEADER", section(source, { part: [], text: "HEADER" }) ?? new Uint8Array());
        break;
      case "RFC822.TEXT":
        literal("RFC822.TEXT", section(source, { part: [], text: "TEXT" }) ?? new Uint8Array());
        break;
      case "BODY[]":
      case "BINARY[]": {
        const binary = item.item === "BINARY[]";
        let bytes = binary ? binarySection(source, item.section) : section(source, item.section);
        const name = `${binary ? "BINARY" : "BODY"}[${sectionText(item.section)}]`;
        if (bytes === null) {
          add(`${name} NIL`);
          break;
        }
        let origin = "";
        if (item.partial) {
          bytes = bytes.subarray(item.partial.offset, item.partial.offset + item.partial.length);
          origin = `<${item.partial.offset}>`;
        }
        // RFC 3516 §4.2: binary content with NUL bytes goes in a literal8 "~{n}".
        if (binary && bytes.includes(0)) {
          add(`${name}${origin} ~{${bytes.length}}\r\n`);
          parts.push(bytes);
        } else literal(`${name}${origin}`, bytes);
        break;
      }
      case "BINARY.SIZE": {
        const bytes = binarySection(source, item.section);
        add(`BINARY.SIZE[${sectionText(item.section)}] ${bytes?.length ?? 0}`);
        break;
      }
    }
  }
  // RFC 9051 §6.4.9 / RFC 7162 §3.1.4.1: UID FETCH always carries UID; CONDSTORE adds MODSEQ.
  if (options.uid && !uidDone) add(`UID ${source.uid}`);
  if (options.condstore && !modseqDone) add(`MODSEQ (${source.modseq})`);
  return [`* ${source.seq} FETCH (`, ...parts, ")\r\n"];
}

/** The bytes of a BODY[section] (RFC 9051 §6.4.5), or null when the part does not exist. */
export function section(source: FetchSource, s: Section): Uint8Array | null {
  const raw = source.raw!;
  let start = 0;
  let end = raw.length;
  if (s.part.length > 0) {
    const part = partAt(source.summary!.body, s.part.join("."));
    if (!part) return null;
    if (s.text === "MIME") return raw.subarray(part.headerStart, part.bodyStart);
    if (s.text === null) return raw.subarray(part.bodyStart, part.bodyEnd);
    // HEADER/TEXT of a part address the message inside a message/rfc822 part.
    const inner: MimePart | undefined = part.message?.body;
    if (!inner) return null;
    start = inner.headerStart;
    end = inner.bodyEnd;
  }
  const message = raw.subarray(start, end);
  const { headerEnd, bodyStart } = splitHeaderBody(message);
  switch (s.text) {
    case null:
      return message;
    case "TEXT":
      return message.subarray(bodyStart);
    case "HEADER":
      return message.subarray(0, bodyStart);
    case "HEADER.FIELDS":
    case "HEADER.FIELDS.NOT": {
      const wanted = new Set(s.fields);
      const keep = s.text === "HEADER.FIELDS";
      const lines = headerLines(message.subarray(0, headerEnd)).filter((l) => wanted.has(l.name) === keep);
      return enc.encode(`${lines.map((l) => l.raw).join("")}\r\n`);
    }
    default:
      return null;
  }
}

/** Raw header fields with their folded lines, CRLF-terminated, and lower-case names. */
function headerLines(header: Uint8Array): Array<{ name: string; raw: string }> {
  const text = new TextDecoder().decode(header);
  const out: Array<{ name: string; raw: string }> = [];
  for (const line of text.split(/(?<=\n)/)) {
    if (line === "\r\n" || line === "\n") break;
    const normalized = line.endsWith("\r\n") ? line : `${line.replace(/\n$/, "")}\r\n`;
    if ((line.startsWith(" ") || line.startsWith("\t")) && out.length) out.at(-1)!.raw += normalized;
    else out.push({ name: line.slice(0, Math.max(0, line.indexOf(":"))).trim().toLowerCase(), raw: normalized });
  }
  return out;
}

/** BINARY[section]: the part's content with its transfer encoding undone (RFC 3516 §4.2). */
function binarySection(source: FetchSource, s: Section): Uint8Array | null {
  if (s.part.length === 0) return source.raw;
  const part = partAt(source.summary!.body, s.part.join("."));
  if (!part) return null;
  return decodeTransfer(source.raw!.subarray(part.bodyStart, part.bodyEnd), part.encoding);
}
