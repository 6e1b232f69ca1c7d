/**
 * Which parts of a message are its text body, its HTML body and its attachments: the JMAP
 * textBody / htmlBody / attachments algorithm of RFC 8621 §4.1.4, over IMAP part paths ("1.2").
 * Enclosed messages (message/rfc822) are attachments and are not looked into.
 */
import type { MimePart } from "./structure.ts";

/** A part and its IMAP part path ("1.2"). */
export interface Located {
  part: MimePart;
  path: string;
}

export interface BodyParts {
  textBody: Located[];
  htmlBody: Located[];
  attachments: Located[];
}

export function bodyParts(root: MimePart): BodyParts {
  const textBody: Located[] = [];
  const htmlBody: Located[] = [];
  const attachments: Located[] = [];
  walk([{ part: root, path: root.parts ? "" : "1" }], "mixed", false, htmlBody, textBody, attachments);
  return { textBody, htmlBody, attachments };
}

/** The part's file name, from Content-Disposition or the older Content-Type "name". */
export function fileName(part: MimePart): string | null {
  return part.disposition?.params.filename ?? part.params.name ?? null;
}

function isInlineMediaType(part: MimePart): boolean {
  return part.type === "image" || part.type === "audio" || part.type === "video";
}

/** RFC 8621 §4.1.4 parseStructure, kept close to the specification's code. */
function walk(
  parts: Located[],
  multipartType: string,
  inAlternative: boolean,
  htmlBody: Located[] | null,
  textBody: Located[] | null,
  attachments: Located[],
): void {
  const textLength = textBody ? textBody.length : -1;
  const htmlLength = htmlBody ? htmlBody.length : -1;
  parts.forEach((located, i) => {
    const { part, path } = located;
    const kind = `${part.type}/${part.subtype}`;
    const isInline = part.disposition?.type !== "attachment" &&
      (kind === "text/plain" || kind === "text/html" || isInlineMediaType(part)) &&
      // In multipart/related only the first part is inline; a named text part after the first is an attachment.
      (i === 0 || (multipartType !== "related" && (isInlineMediaType(part) || !fileName(part))));

    if (part.parts) {
      const children = part.parts.map((child, j) => ({ part: child, path: path ? `${path}.${j + 1}` : `${j + 1}` }));
      const sub = part.subtype;
      walk(children, sub, inAlternative || sub === "alternative", htmlBody, textBody, attachments);
    } else if (isInline) {
      if (multipartType === "alternative") {
        if (kind === "text/plain") textBody?.push(located);
        else if (kind === "text/html") htmlBody?.push(located);
        else attachments.push(located);
        return;
      }
      if (inAlternative) {
        if (kind === "text/plain") htmlBody = null;
        if (kind === "text/html") textBody = null;
      }
      textBody?.push(located);
      htmlBody?.push(located);
      if ((!textBody || !htmlBody) && isInlineMediaType(part)) attachments.push(located);
    } else attachments.push(located);
  });

  if (multipartType === "alternative" && textBody && htmlBody) {
    // Only HTML found: it stands in for text too; only text found: it stands in for HTML.
    if (textLength === textBody.length && htmlLength !== htmlBody.length) textBody.push(...htmlBody.slice(htmlLength));
    if (htmlLength === htmlBody.length && textLength !== textBody.length) htmlBody.push(...textBody.slice(textLength));
  }
}
