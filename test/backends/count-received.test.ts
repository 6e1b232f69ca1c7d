/**
 * The hop count (RFC 5321 §6.3) is read from the header's bytes: it must agree with the parsed fields on every
 * shape a header can take, and never count what is not a Received: field.
 */
import { describe, expect, test } from "bun:test";
import { countReceived } from "../../src/backends/smtp.ts";
import { parseHeaderFields, splitHeaderBody } from "../../src/mime/header.ts";

const enc = new TextEncoder();

/** The count by the field parser, as it was done before. */
function parsed(content: Uint8Array): number {
  const fields = parseHeaderFields(content.subarray(0, splitHeaderBody(content).headerEnd));
  return fields.filter((f) => f.lowerName === "received").length;
}

const cases: Array<[string, number]> = [
  ["Received: from a\r\nReceived: from b\r\nSubject: x\r\n\r\nbody\r\n", 2],
  ["received: a\r\nRECEIVED:b\r\nReCeIvEd \t: c\r\n\r\n", 3],
  // Folded: the continuation is part of the first field, not a field of its own.
  ["Received: from a\r\n Received: not a field\r\n\tReceived: nor this\r\nTo: x\r\n\r\n", 1],
  ["X-Received: a\r\nReceived-SPF: pass\r\nReceivedX: b\r\nReceive: c\r\nReceived\r\n\r\n", 0],
  // Only the header counts: the body's lines and a second blank-line-separated block do not.
  ["Subject: s\r\n\r\nReceived: in the body\r\n\r\nReceived: still body\r\n", 0],
  ["Received: bare LF\nReceived: again\n\nReceived: body\n", 2],
  ["\r\nReceived: empty header, all body\r\n", 0],
  ["Received: no blank line at all\r\nReceived: x", 2],
  ["Received: a\rReceived: a CR alone is no line end\r\n\r\n", 1],
  ["Received : \u00e9t\u00e9\r\nSubject: \u00fcml\u00e4ut\r\nReceived: c\r\n\r\n", 2],
  ["", 0],
  ["Received", 0],
  ["Received:", 1],
];

describe("countReceived", () => {
  for (const [text, expected] of cases) {
    test(JSON.stringify(text.slice(0, 40)), () => {
      const bytes = enc.encode(text);
      expect(countReceived(bytes)).toBe(expected);
      expect(countReceived(bytes)).toBe(parsed(bytes));
    });
  }

  test("agrees with the field parser on random headers", () => {
    const pieces = [
      "Received",
      "received",
      "X-Received",
      "Received-SPF",
      " ",
      "\t",
      ":",
      ": v",
      "\r\n",
      "\n",
      "\r",
      "a",
    ];
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % pieces.length;
    for (let n = 0; n < 2000; n++) {
      let text = "";
      for (let k = 0; k < 12; k++) text += pieces[next()];
      const bytes = enc.encode(text);
      expect([text, countReceived(bytes)]).toEqual([text, parsed(bytes)]);
    }
  });
});
