/**
 * Sieve `editheader` at delivery (RFC 5293): the message as a script left its header. Fields the script did not touch
 * keep their bytes as received (folding included); added fields are folded like Postern's own. The interpreter never
 * deletes Received or Auto-Submitted (RFC 5293 §6), so trace fields stay.
 */
import { parseHeaderFields, splitHeaderBody } from "../mime/header.ts";
import { headerField } from "../mime/write.ts";
import type { SieveMessage } from "../sieve/index.ts";
import { concatBytes } from "../util/bytes.ts";

/** `view` is the message view the script ran on; `edited` is the result's `headers`. */
export function editedMessage(
  raw: Uint8Array,
  view: SieveMessage,
  edited: SieveMessage["headers"],
): Uint8Array {
  const { headerEnd } = splitHeaderBody(raw);
  const fields = parseHeaderFields(raw.subarray(0, headerEnd));
  const lines = edited.map((h) => {
    const i = view.headers.indexOf(h);
    // RFC 5293 §4: an added value is unstructured text; line breaks in it would start a field of their own.
    return i >= 0 && fields[i] ? fields[i]!.raw : headerField(h.name, h.value.replace(/[\r\n]+/g, " "));
  });
  const head = new TextEncoder().encode(lines.map((l) => `${l}\r\n`).join(""));
  return concatBytes([head, raw.subarray(headerEnd)]);
}
