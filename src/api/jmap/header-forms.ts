/**
 * Reading header fields in the parsed forms of RFC 8621 §4.1.2 (Email/get, Email/parse and
 * EmailBodyPart `header:{name}[:as{Form}][:all]`, and `headers`). A value that does not parse
 * in its form is null (§4.1.2: "if … cannot be parsed … the value is null").
 */
import { parseAddressList } from "../../mime/address-list.ts";
import { parseDateTime } from "../../mime/date.ts";
import { decodeEncodedWords, type HeaderField } from "../../mime/header.ts";
import { messageIds } from "../../mime/message-id.ts";
import type { HeaderProperty } from "./compose-headers.ts";
import { zonedDate } from "./request.ts";

/** §4.1.2.1 Raw: the octets after the colon up to the final CRLF, folding kept. */
export function rawValue(field: HeaderField): string {
  return field.raw.slice(field.raw.indexOf(":") + 1);
}

/** §4.1.2.2 Text: unfolded, RFC 2047 words decoded, trimmed. */
function asText(raw: string): string {
  return decodeEncodedWords(raw.replace(/\r?\n(?=[ \t])/g, "")).trim();
}

function asGroupedAddresses(raw: string) {
  const out: Array<{ name: string | null; addresses: Array<{ name: string | null; email: string }> }> = [];
  for (const entry of parseAddressList(raw.replace(/\r?\n(?=[ \t])/g, ""))) {
    if ("group" in entry) {
      out.push({ name: entry.group, addresses: entry.addresses.map((a) => ({ name: a.name, email: a.address })) });
      continue;
    }
    // §4.1.2.4: consecutive addresses outside a group make one group named null.
    const last = out.at(-1);
    const address = { name: entry.name, email: entry.address };
    if (last && last.name === null) last.addresses.push(address);
    else out.push({ name: null, addresses: [address] });
  }
  return out;
}

/** The value of one field in one form. */
export function parsedValue(field: HeaderField, form: HeaderProperty["form"]): unknown {
  const raw = rawValue(field);
  switch (form) {
    case "Raw":
      return raw;
    case "Text":
      return asText(raw);
    case "Addresses":
      return asGroupedAddresses(raw).flatMap((g) => g.addresses);
    case "GroupedAddresses":
      return asGroupedAddresses(raw);
    case "MessageIds": {
      const ids = messageIds(raw.replace(/\r?\n(?=[ \t])/g, ""));
      return ids.length ? ids : null;
    }
    case "Date": {
      // §4.1.2.6: a Date, in the zone the field was written in.
      const at = parseDateTime(raw.replace(/\r?\n(?=[ \t])/g, " ").trim());
      return at === null ? null : zonedDate(at.time, at.offset);
    }
    case "URLs": {
      // §4.1.2.7: the URLs in angle brackets of a comma-separated list (RFC 2369).
      const urls = [...raw.matchAll(/<([^<>]*)>/g)].map((m) => m[1]!.replace(/\s+/g, ""));
      return urls.length ? urls : null;
    }
  }
}

/**
 * A `header:` property's value: every field of the name in order with `:all` (an empty list when
 * there is none), else the last one (§4.1.3), or null.
 */
export function headerPropertyValue(fields: readonly HeaderField[], header: HeaderProperty): unknown {
  const lower = header.name.toLowerCase();
  const matching = fields.filter((f) => f.lowerName === lower);
  if (header.all) return matching.map((f) => parsedValue(f, header.form));
  const last = matching.at(-1);
  return last ? parsedValue(last, header.form) : null;
}

/** The `headers` property: every field, name as written and raw value (§4.1.3). */
export function allHeaders(fields: readonly HeaderField[]): Array<{ name: string; value: string }> {
  return fields.map((f) => ({ name: f.name, value: rawValue(f) }));
}
