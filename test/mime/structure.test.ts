import { describe, expect, test } from "bun:test";
import { parseAddressList } from "../../src/mime/address-list.ts";
import { decodeEncodedWords } from "../../src/mime/header.ts";
import { parseParameterized } from "../../src/mime/parameters.ts";
import { partAt, parseStructure } from "../../src/mime/structure.ts";
import { summarize } from "../../src/mime/summary.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

const MIXED = [
  "From: =?UTF-8?B?SsO2cmc=?= <jorg@example.test>",
  "To: team: a@example.test, \"Doe, Jane\" <jane@example.test>;, bob@example.test (Bob)",
  "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= =?UTF-8?Q?_aus_K=C3=B6ln?=",
  "Date: Mon, 23 Nov 2026 10:00:00 +0100",
  "Message-ID: <m1@example.test>",
  "In-Reply-To: <m0@example.test>",
  "References: <a@x> <m0@example.test>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="outer"',
  "",
  "preamble",
  "--outer",
  'Content-Type: multipart/alternative; boundary="inner"',
  "",
  "--inner",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  "Hallo =C3=A4 Welt",
  "line two",
  "--inner",
  "Content-Type: text/html",
  "",
  "<p>Hallo</p>",
  "--inner--",
  "--outer",
  "Content-Type: application/pdf; name*0=\"long\"; name*1=\"name.pdf\"",
  "Content-Disposition: attachment; filename*=utf-8''%E2%82%AC.pdf",
  "Content-Transfer-Encoding: base64",
  "",
  "JVBERi0=",
  "--outer",
  "Content-Type: message/rfc822",
  "",
  "From: inner@example.test",
  "Subject: inner",
  "",
  "inner body",
  "--outer--",
  "epilogue",
  "",
].join("\r\n");

describe("MIME structure", () => {
  const raw = enc.encode(MIXED);
  const root = parseStructure(raw);
  const body = (path: string) => {
    const part = partAt(root, path)!;
    return dec.decode(raw.subarray(part.bodyStart, part.bodyEnd));
  };

  test("the tree, types and parameters", () => {
    expect(root.type).toBe("multipart");
    expect(root.subtype).toBe("mixed");
    expect(root.parts!.map((p) => `${p.type}/${p.subtype}`)).toEqual(["multipart/alternative", "application/pdf", "message/rfc822"]);
    expect(partAt(root, "1.1")!.params).toEqual({ charset: "utf-8" });
    expect(partAt(root, "1.2")!.params).toEqual({ charset: "us-ascii" });
    expect(partAt(root, "2")!.params.name).toBe("longname.pdf");
    expect(partAt(root, "2")!.disposition).toEqual({ type: "attachment", params: { filename: "€.pdf" } });
    expect(partAt(root, "2")!.encoding).toBe("base64");
  });

  test("byte offsets give each part's exact body, without the CRLF before the delimiter", () => {
    expect(body("1.1")).toBe("Hallo =C3=A4 Welt\r\nline two");
    expect(body("1.2")).toBe("<p>Hallo</p>");
    expect(body("2")).toBe("JVBERi0=");
    expect(partAt(root, "1.1")!.lines).toBe(2);
    const mime = partAt(root, "1.1")!;
    expect(dec.decode(raw.subarray(mime.headerStart, mime.headerEnd))).toBe(
      "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n",
    );
  });

  test("message/rfc822 parts carry the enclosed envelope and structure", () => {
    const inner = partAt(root, "3")!;
    expect(inner.message!.envelope.subject).toBe("inner");
    expect(inner.message!.envelope.from).toEqual([{ name: null, mailbox: "inner", host: "example.test" }]);
    expect(body("3.1")).toBe("inner body");
    expect(partAt(root, "9")).toBeNull();
  });

  test("a single-part message's part 1 is its body; bare LF messages work too", () => {
    const single = enc.encode("Subject: x\n\nline1\nline2\n");
    const s = parseStructure(single);
    expect(s.type).toBe("text");
    expect(s.lines).toBe(2);
    expect(partAt(s, "1")).toBe(s);
    expect(dec.decode(single.subarray(s.bodyStart, s.bodyEnd))).toBe("line1\nline2\n");
  });

  test("a truncated multipart ends its last part at the end of the message", () => {
    const cut = enc.encode('Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nfirst\r\n--b\r\n\r\nunfinished');
    const s = parseStructure(cut);
    expect(s.parts!.length).toBe(2);
    expect(dec.decode(cut.subarray(s.parts![1]!.bodyStart, s.parts![1]!.bodyEnd))).toBe("unfinished");
  });

  test("a deeply nested bomb finishes quickly and does not throw", () => {
    let bomb = "";
    for (let i = 0; i < 10_000; i++) bomb += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    const started = performance.now();
    const s = parseStructure(enc.encode(bomb));
    expect(s.type).toBe("multipart");
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("headers", () => {
  test("RFC 2047 words: B and Q, charsets, adjacent words joined", () => {
    expect(decodeEncodedWords("=?ISO-8859-1?Q?Gr=FC=DFe?= =?UTF-8?Q?_aus_K=C3=B6ln?=")).toBe("Grüße aus Köln");
    expect(decodeEncodedWords("=?UTF-8?B?SsO2cmc=?= plain")).toBe("Jörg plain");
  });

  test("address lists: groups, quoted commas, comments", () => {
    expect(parseAddressList('team: a@x.test, "Doe, Jane" <jane@x.test>;, bob@x.test (Bob)')).toEqual([
      { group: "team", addresses: [{ name: null, address: "a@x.test" }, { name: "Doe, Jane", address: "jane@x.test" }] },
      { name: null, address: "bob@x.test" },
    ]);
  });

  test("parameters: quoting and RFC 2231", () => {
    expect(parseParameterized('Text/Plain; Charset="utf-8"; format=flowed')).toEqual({
      value: "text/plain",
      params: { charset: "utf-8", format: "flowed" },
    });
  });
});

describe("summary", () => {
  test("identity, threading, addresses, date, envelope, preview and attachments", async () => {
    const s = await summarize(enc.encode(MIXED));
    expect(s.messageId).toBe("m1@example.test");
    expect(s.inReplyTo).toEqual(["m0@example.test"]);
    expect(s.references).toEqual(["a@x", "m0@example.test"]);
    expect(s.subject).toBe("Grüße aus Köln");
    expect(s.sentAt).toBe(Date.UTC(2026, 10, 23, 9, 0, 0));
    expect(s.from).toEqual([{ name: "Jörg", address: "jorg@example.test" }]);
    expect(s.to.map((a) => a.address)).toEqual(["a@example.test", "jane@example.test", "bob@example.test"]);
    expect(s.envelope.sender).toEqual(s.envelope.from);
    expect(s.envelope.from![0]!.name).toBe("=?UTF-8?B?SsO2cmc=?=");
    expect(s.envelope.to![0]).toEqual({ name: null, mailbox: "team", host: null });
    expect(s.preview).toBe("Hallo ä Welt line two");
    expect(s.hasAttachment).toBe(true);
    expect(s.body.parts).toHaveLength(3);
  });

  test("garbage gives an empty summary instead of an exception", async () => {
    const s = await summarize(Uint8Array.of(0, 255, 13, 10, 58, 58));
    expect(s.messageId).toBeNull();
    expect(s.sentAt).toBeNull();
  });

  test("dates: obsolete zones, comments, garbage", async () => {
    const date = async (d: string) => (await summarize(enc.encode(`Date: ${d}\r\n\r\n`))).sentAt;
    expect(await date("23 Nov 2026 10:00:00 GMT")).toBe(Date.UTC(2026, 10, 23, 10));
    expect(await date("Mon, 23 Nov 2026 05:00:00 EST (Eastern)")).toBe(Date.UTC(2026, 10, 23, 10));
    expect(await date("yesterday-ish")).toBeNull();
  });
});
