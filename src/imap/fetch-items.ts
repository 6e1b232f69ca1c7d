/**
 * FETCH data items (RFC 9051 §6.4.5, BINARY RFC 3516, MODSEQ RFC 7162, EMAILID and THREADID
 * RFC 8474, PREVIEW RFC 8970), with the ALL, FAST and
 * FULL macros expanded.
 */
import type { FetchItem, Section } from "./commands.ts";
import type { Cursor } from "./cursor.ts";

const SIMPLE = new Set([
  "FLAGS",
  "INTERNALDATE",
  "RFC822.SIZE",
  "ENVELOPE",
  "BODYSTRUCTURE",
  "UID",
  "MODSEQ",
  "RFC822",
  "RFC822.HEADER",
  "RFC822.TEXT",
  "EMAILID",
  "THREADID",
  "SAVEDATE",
]);

const MACROS: Record<string, string[]> = {
  ALL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE"],
  FAST: ["FLAGS", "INTERNALDATE", "RFC822.SIZE"],
  FULL: ["FLAGS", "INTERNALDATE", "RFC822.SIZE", "ENVELOPE", "BODY"],
};

export function parseFetchItems(c: Cursor): FetchItem[] {
  if (c.peek() === "(") return c.list(() => parseFetchItem(c));
  const save = c.pos;
  const word = c.keyword();
  const macro = MACROS[word];
  if (macro) return macro.map((item) => ({ item }) as FetchItem);
  c.pos = save;
  return [parseFetchItem(c)];
}

function parseFetchItem(c: Cursor): FetchItem {
  const word = c.keyword();
  if (
    word === "BODY" || word === "BODY.PEEK" || word === "BINARY" || word === "BINARY.PEEK" || word === "BINARY.SIZE"
  ) {
    if (c.peek() !== "[") {
      if (word === "BODY") return { item: "BODY" };
      return c.fail(`"[" after ${word}`);
    }
    const binary = word.startsWith("BINARY");
    const section = parseSection(c, binary);
    if (word === "BINARY.SIZE") return { item: "BINARY.SIZE", section };
    const partial = parsePartial(c);
    const peek = word.endsWith(".PEEK");
    return { item: binary ? "BINARY[]" : "BODY[]", section, peek, ...(partial ? { partial } : {}) };
  }
  if (SIMPLE.has(word)) return { item: word } as FetchItem;
  if (word === "PREVIEW") {
    // RFC 8970 §3.1: PREVIEW (LAZY); the stored preview is always at hand.
    c.accept(" (LAZY)");
    return { item: "PREVIEW" };
  }
  return c.fail(`a fetch item (not ${word})`);
}

/** "[" [part ["." text] / text] "]"; BINARY sections are part numbers only (RFC 3516 §4.2). */
function parseSection(c: Cursor, binary: boolean): Section {
  c.expect("[");
  const section: Section = { part: [], text: null };
  while (/\d/.test(c.peek())) {
    section.part.push(c.nzNumber());
    if (!c.accept(".")) break;
  }
  if (c.peek() !== "]") {
    if (binary) c.fail("a part number in a BINARY section");
    const text = c.keyword();
    if (text === "MIME" && section.part.length === 0) c.fail("a part number before MIME");
    if (text === "HEADER.FIELDS" || text === "HEADER.FIELDS.NOT") {
      c.sp();
      section.fields = c.list(() => c.astring().toLowerCase());
    } else if (text !== "HEADER" && text !== "TEXT" && text !== "MIME") {
      c.fail(`HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME (not ${text})`);
    }
    section.text = text as Section["text"];
  }
  c.expect("]");
  return section;
}

/** "<" offset "." length ">" */
function parsePartial(c: Cursor): { offset: number; length: number } | undefined {
  if (!c.accept("<")) return undefined;
  const offset = c.number();
  c.expect(".");
  const length = c.nzNumber();
  c.expect(">");
  return { offset, length };
}

/** The text of a section as it is echoed in the FETCH response, e.g. "1.2.HEADER.FIELDS (FROM TO)". */
export function sectionText(section: Section): string {
  const parts = [...section.part.map(String)];
  if (section.text) parts.push(section.text);
  let text = parts.join(".");
  if (section.fields) text += ` (${section.fields.map((f) => f.toUpperCase()).join(" ")})`;
  return text;
}
