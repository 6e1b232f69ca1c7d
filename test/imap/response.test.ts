import { describe, expect, test } from "bun:test";
import { astring, bodyStructure, envelope, imapString, nstring } from "../../src/imap/response.ts";
import { summarize } from "../../src/mime/summary.ts";

const raw = new TextEncoder().encode(
  "From: A <a@x.test>\r\nSubject: hi\r\nContent-Type: multipart/alternative; boundary=b\r\n\r\n" +
    "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nhello\r\n--b\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n--b--\r\n",
);

describe("IMAP response syntax", () => {
  test("strings: quoted with escapes, literals for CR/LF and 8-bit, NIL", () => {
    expect(imapString('a "b" \\c')).toBe('"a \\"b\\" \\\\c"');
    expect(imapString("two\r\nlines")).toBe("{10}\r\ntwo\r\nlines");
    expect(imapString("grüße")).toBe("{7}\r\ngrüße");
    expect(imapString("grüße", true)).toBe('"grüße"');
    expect(nstring(null)).toBe("NIL");
    expect(astring("INBOX")).toBe("INBOX");
    expect(astring("Sent Items")).toBe('"Sent Items"');
    expect(astring("NIL")).toBe('"NIL"');
  });

  test("ENVELOPE from the stored summary, Sender and Reply-To defaulting to From", async () => {
    const s = await summarize(raw);
    expect(envelope(s.envelope)).toBe(
      '(NIL "hi" (("A" NIL "a" "x.test")) (("A" NIL "a" "x.test")) (("A" NIL "a" "x.test")) NIL NIL NIL NIL NIL)',
    );
  });

  test("ENVELOPE keeps an obsolete source route as addr-adl (RFC 9051 §7.5.2, RFC 5322 §4.4)", () => {
    const s = summarize(new TextEncoder().encode("From: Old <@relay.test,@hop.test:user@host.test>\r\n\r\nx\r\n"));
    expect(envelope(s.envelope)).toStartWith('(NIL NIL (("Old" "@relay.test,@hop.test" "user" "host.test"))');
  });

  test("BODYSTRUCTURE with extension data, and BODY without", async () => {
    const s = await summarize(raw);
    expect(bodyStructure(s.body, true)).toBe(
      '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 5 1 NIL NIL NIL NIL)' +
        '("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 9 1 NIL NIL NIL NIL) "ALTERNATIVE" ("BOUNDARY" "b") NIL NIL NIL)',
    );
    expect(bodyStructure(s.body, false)).toBe(
      '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 5 1)("TEXT" "HTML" ("CHARSET" "us-ascii") NIL NIL "7BIT" 9 1) "ALTERNATIVE")',
    );
  });

  test("message/rfc822 parts carry envelope, body and lines; attachments their disposition", async () => {
    const s = await summarize(
      new TextEncoder().encode(
        "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: message/rfc822\r\n\r\nSubject: inner\r\n\r\nbody\r\n" +
          '--m\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="a.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBE\r\n--m--\r\n',
      ),
    );
    expect(bodyStructure(s.body, true)).toBe(
      '(("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 22 (NIL "inner" NIL NIL NIL NIL NIL NIL NIL NIL) ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 4 1 NIL NIL NIL NIL) 3 NIL NIL NIL NIL)' +
        '("APPLICATION" "PDF" NIL NIL NIL "BASE64" 4 NIL ("ATTACHMENT" ("FILENAME" "a.pdf")) NIL NIL) "MIXED" ("BOUNDARY" "m") NIL NIL NIL)',
    );
  });
});
