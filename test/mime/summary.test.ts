import { describe, expect, test } from "bun:test";
import { decodePartBody, partAt, summarize } from "../../src/mime/summary.ts";
import { crlf, dec, enc, MIXED } from "./fixtures.ts";

describe("summarize", () => {
  test("is synchronous and gives identity, threading, addresses, date and envelope", () => {
    const s = summarize(enc.encode(MIXED));
    expect(s instanceof Promise).toBe(false);
    expect(s.size).toBe(enc.encode(MIXED).length);
    expect(s.messageId).toBe("m1@example.test");
    expect(s.inReplyTo).toEqual(["m0@example.test"]);
    expect(s.references).toEqual(["a@x", "m0@example.test"]);
    expect(s.subject).toBe("Grüße aus Köln");
    expect(s.sentAt).toBe(Date.UTC(2026, 10, 23, 9, 0, 0));
    expect(s.from).toEqual([{ name: "Jörg", email: "jorg@example.test" }]);
    expect(s.to).toEqual([
      { name: null, email: "a@example.test" },
      { name: "Doe, Jane", email: "jane@example.test" },
      { name: "Bob", email: "bob@example.test" },
    ]);
    expect([s.cc, s.bcc, s.sender, s.replyTo]).toEqual([[], [], [], []]);
    expect(s.envelope.sender).toEqual(s.envelope.from);
    expect(s.envelope.from![0]!.name).toBe("=?UTF-8?B?SsO2cmc=?=");
    expect(s.envelope.to![0]).toEqual({ name: null, mailbox: "team", host: null });
    expect(s.body.parts).toHaveLength(3);
  });

  test("body part lists, attachments and the preview from quoted-printable", () => {
    const s = summarize(enc.encode(MIXED));
    expect([s.textParts, s.htmlParts, s.attachments]).toEqual([["1.1"], ["1.2"], ["2", "3"]]);
    expect(s.hasAttachment).toBe(true);
    expect(s.preview).toBe("Hallo ä Welt and line two");
  });

  test("a base64 text in ISO-8859-1, and a long one cut at 256 characters", () => {
    const latin = btoa(String.fromCharCode(...Array.from("Grüße,\n  aus   Köln", (c) => c.charCodeAt(0))));
    const s = summarize(
      enc.encode(
        crlf(["Content-Type: text/plain; charset=iso-8859-1", "Content-Transfer-Encoding: base64", "", latin, ""]),
      ),
    );
    expect(s.preview).toBe("Grüße, aus Köln");
    expect([s.textParts, s.htmlParts, s.attachments, s.hasAttachment]).toEqual([["1"], ["1"], [], false]);
    const long = summarize(enc.encode(`Subject: x\r\n\r\n${"wörd ".repeat(200)}`));
    expect(Array.from(long.preview).length).toBe(256);
    expect(long.preview).toStartWith("wörd wörd");
  });

  test("an HTML-only message: markup, scripts and entities removed", () => {
    const html =
      "<html><head><title>T</title><style>p{}</style></head><body><p>Hi&nbsp;&amp; <b>bye</b></p><script>x()</script><!-- c -->&#233;&#x2603;</body></html>";
    const s = summarize(enc.encode(crlf(["Content-Type: text/html; charset=utf-8", "", html])));
    expect(s.preview).toBe("Hi & bye é☃");
    expect([s.textParts, s.htmlParts]).toEqual([["1"], ["1"]]);
  });

  test("multipart/related: an embedded image is no attachment, a named file is", () => {
    const raw = enc.encode(
      crlf([
        "Content-Type: multipart/mixed; boundary=m",
        "",
        "--m",
        "Content-Type: multipart/related; boundary=r",
        "",
        "--r",
        "Content-Type: text/html",
        "",
        '<img src="cid:logo">',
        "--r",
        "Content-Type: image/png",
        "Content-ID: <logo>",
        "",
        "iVBO",
        "--r--",
        "--m",
        "Content-Type: text/plain; name=notes.txt",
        "",
        "notes",
        "--m--",
      ]),
    );
    const s = summarize(raw);
    expect([s.textParts, s.htmlParts, s.attachments]).toEqual([["1.1"], ["1.1"], ["1.2", "2"]]);
    expect(s.hasAttachment).toBe(true);
    const only = summarize(raw.subarray(0, dec.decode(raw).indexOf("--m\r\nContent-Type: text/plain")));
    expect(only.attachments).toEqual(["1.2"]);
    expect(only.hasAttachment).toBe(false);
  });

  test("decodePartBody undoes base64 and quoted-printable; partAt is re-exported", () => {
    const raw = enc.encode(MIXED);
    const s = summarize(raw);
    expect(dec.decode(decodePartBody(raw, partAt(s.body, "2")!))).toBe("%PDF-");
    expect(dec.decode(decodePartBody(raw, partAt(s.body, "1.1")!))).toBe("Hallo ä Welt  and\r\nline two");
    expect(dec.decode(decodePartBody(raw, partAt(s.body, "1.2")!))).toBe("<p>Hallo</p>");
  });

  test("garbage gives an empty summary instead of an exception", () => {
    const s = summarize(Uint8Array.of(0, 255, 13, 10, 58, 58));
    expect(s.messageId).toBeNull();
    expect(s.subject).toBeNull();
    expect(s.sentAt).toBeNull();
    expect(s.from).toEqual([]);
    expect(() =>
      summarize(
        enc.encode(
          "Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\n\r\n--a",
        ),
      )
    ).not.toThrow();
  });

  test("the summary survives a JSON round trip unchanged", () => {
    const s = summarize(enc.encode(MIXED));
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
