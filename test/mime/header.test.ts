import { describe, expect, test } from "bun:test";
import {
  decodeEncodedWords,
  parseHeaderFields,
  parseParameterizedHeader,
  splitHeaderBody,
} from "../../src/mime/header.ts";
import { messageIds } from "../../src/mime/message-id.ts";
import { enc } from "./fixtures.ts";

describe("splitHeaderBody", () => {
  test("CRLF, bare LF, no body, empty header", () => {
    expect(splitHeaderBody(enc.encode("A: 1\r\nB: 2\r\n\r\nbody"))).toEqual({ headerEnd: 12, bodyStart: 14 });
    expect(splitHeaderBody(enc.encode("A: 1\nB: 2\n\nbody"))).toEqual({ headerEnd: 10, bodyStart: 11 });
    expect(splitHeaderBody(enc.encode("A: 1\r\nB: 2\r\n"))).toEqual({ headerEnd: 12, bodyStart: 12 });
    expect(splitHeaderBody(enc.encode("A: 1"))).toEqual({ headerEnd: 4, bodyStart: 4 });
    expect(splitHeaderBody(enc.encode("\r\nbody"))).toEqual({ headerEnd: 0, bodyStart: 2 });
    expect(splitHeaderBody(new Uint8Array())).toEqual({ headerEnd: 0, bodyStart: 0 });
  });
});

describe("parseHeaderFields", () => {
  test("names as written, raw with folding, values unfolded and trimmed", () => {
    const fields = parseHeaderFields(
      enc.encode("Subject: a long\r\n\tsubject  \r\nX-Empty:\r\nTo : b@x.test\r\n\r\nBody: no\r\n"),
    );
    expect(fields).toEqual([
      { name: "Subject", lowerName: "subject", raw: "Subject: a long\r\n\tsubject  ", value: "a long\tsubject" },
      { name: "X-Empty", lowerName: "x-empty", raw: "X-Empty:", value: "" },
      { name: "To", lowerName: "to", raw: "To : b@x.test", value: "b@x.test" },
    ]);
  });

  test("bare LF, 8-bit UTF-8 and Latin-1 lines, junk lines skipped", () => {
    const latin1 = Uint8Array.of(...enc.encode("X-L: Gr"), 0xfc, 0x0a);
    const bytes = Uint8Array.of(
      ...enc.encode("From sender Mon Nov 23 10:00:00 2026\nSubject: grüße\n"),
      ...latin1,
      ...enc.encode("junk\n"),
    );
    expect(parseHeaderFields(bytes).map((f) => [f.name, f.value])).toEqual([
      ["Subject", "grüße"],
      ["X-L", "Grü"],
    ]);
  });
});

describe("parseHeaderFields line ends", () => {
  test("a folded field with bare LF gets CRLF in raw; CR alone stays; the colon is looked for on the first line only", () => {
    const fields = parseHeaderFields(enc.encode("A: 1\n 2\r\n\t3\nB: x\ry\r\r\n z\nNoColon\n : c\nC: 4"));
    expect(fields).toEqual([
      { name: "A", lowerName: "a", raw: "A: 1\r\n 2\r\n\t3", value: "1 2\t3" },
      { name: "B", lowerName: "b", raw: "B: x\ry\r\r\n z", value: "x\ry\r z" },
      { name: "C", lowerName: "c", raw: "C: 4", value: "4" },
    ]);
  });

  test("continuation lines before any field are skipped; reading stops at the empty line", () => {
    const fields = parseHeaderFields(enc.encode(" lost: 1\r\nA:\r\n 1\r\n\r\nB: 2"));
    expect(fields.map((f) => [f.name, f.value])).toEqual([["A", "1"]]);
  });
});

describe("decodeEncodedWords (RFC 2047)", () => {
  test("B and Q, ISO-8859-1 and UTF-8, adjacent words joined", () => {
    expect(decodeEncodedWords("=?ISO-8859-1?Q?Gr=FC=DFe?= =?UTF-8?Q?_aus_K=C3=B6ln?=")).toBe("Grüße aus Köln");
    expect(decodeEncodedWords("=?UTF-8?B?SsO2cmc=?= plain")).toBe("Jörg plain");
    expect(decodeEncodedWords("=?utf-8?b?SGVsbG8s?=\r\n =?utf-8?b?IHdvcmxk?=")).toBe("Hello, world");
    expect(decodeEncodedWords("Re: =?iso-8859-1?q?caf=E9?= ok")).toBe("Re: café ok");
  });

  test("a character split across two words, language tags, unknown charsets, plain text", () => {
    // "€" is E2 82 AC: split between two base64 words.
    expect(decodeEncodedWords("=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=")).toBe("€");
    expect(decodeEncodedWords("=?UTF-8*en?Q?hi?=")).toBe("hi");
    expect(decodeEncodedWords("=?x-nonsense?Q?abc?=")).toBe("abc");
    expect(decodeEncodedWords("no words = here ?=")).toBe("no words = here ?=");
    expect(decodeEncodedWords("a =?utf-8?q?b?= c")).toBe("a b c");
  });
});

describe("parseParameterizedHeader", () => {
  test("value lower-cased, names lower-cased, quoting", () => {
    expect(parseParameterizedHeader('Text/Plain; Charset="utf-8"; format=flowed; x="a;b \\"c\\""')).toEqual({
      value: "text/plain",
      params: { charset: "utf-8", format: "flowed", x: 'a;b "c"' },
    });
    expect(parseParameterizedHeader("")).toEqual({ value: "", params: {} });
  });

  test("RFC 2231 continuations, charset and language, percent-encoding", () => {
    expect(parseParameterizedHeader('attachment; filename*0="very long "; filename*1="name.txt"').params).toEqual({
      filename: "very long name.txt",
    });
    expect(parseParameterizedHeader("attachment; filename*=iso-8859-1'de'Gr%FC%DFe.txt").params.filename).toBe(
      "Grüße.txt",
    );
    expect(
      parseParameterizedHeader("a; name*1*=%82%AC.txt; name*0*=utf-8''%E2; name=fallback.txt").params.name,
    ).toBe("€.txt");
  });
});

describe("messageIds (RFC 5322 §3.6.4)", () => {
  test("bracketed ids, white space inside removed, a stray '<' skipped; bare ids only when none is bracketed", () => {
    expect(messageIds("<a@b> (c) <c@d>")).toEqual(["a@b", "c@d"]);
    expect(messageIds("<x <a@\r\n b> <> <c@d")).toEqual(["a@b"]);
    expect(messageIds("< > junk <<y@z>>")).toEqual(["y@z"]);
    expect(messageIds("a@b, (c@d) e@f")).toEqual(["a@b", "e@f"]);
    expect(messageIds(null)).toEqual([]);
  });
});
