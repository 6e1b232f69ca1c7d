import { describe, expect, test } from "bun:test";
import { MAX_PARTS, type MimePart, parseStructure, partAt } from "../../src/mime/structure.ts";
import { crlf, dec, enc, MIXED } from "./fixtures.ts";

const text = (raw: Uint8Array, from: number, to: number) => dec.decode(raw.subarray(from, to));

function check(eol: "\r\n" | "\n") {
  const raw = enc.encode(MIXED.replaceAll("\r\n", eol));
  const root = parseStructure(raw);
  const body = (path: string) => {
    const part = partAt(root, path)!;
    return text(raw, part.bodyStart, part.bodyEnd);
  };
  const n = (s: string) => s.replaceAll("\r\n", eol);

  test("the tree, types and parameters", () => {
    expect(`${root.type}/${root.subtype}`).toBe("multipart/mixed");
    expect(root.parts!.map((p) => `${p.type}/${p.subtype}`)).toEqual([
      "multipart/alternative",
      "application/pdf",
      "message/rfc822",
    ]);
    expect(partAt(root, "1.1")!.params).toEqual({ charset: "utf-8" });
    expect(partAt(root, "1.1")!.encoding).toBe("quoted-printable");
    expect(partAt(root, "1.2")!.params).toEqual({ charset: "us-ascii" });
    expect(partAt(root, "1.2")!.encoding).toBe("7bit");
    expect(partAt(root, "2")!.params).toEqual({ name: "longname.pdf" });
    expect(partAt(root, "2")!.disposition).toEqual({ type: "attachment", params: { filename: "€-report.pdf" } });
    expect(partAt(root, "2")!.encoding).toBe("base64");
  });

  test("offsets give each part's exact body, without the line break before the delimiter", () => {
    expect(body("1.1")).toBe(n("Hallo =C3=A4 Welt=\r\n  and\r\nline two"));
    expect(body("1.2")).toBe("<p>Hallo</p>");
    expect(body("1")).toStartWith(n("--inner\r\nContent-Type: text/plain"));
    expect(body("1")).toEndWith(n("<p>Hallo</p>\r\n--inner--\r\n"));
    expect(body("2")).toBe("JVBERi0=");
    expect(body("3")).toBe(
      n("From: Inner Person <inner@example.test>\r\nSubject: inner\r\nReply-To: replies@example.test\r\n\r\ninner body"),
    );
    expect(text(raw, root.headerStart, root.headerEnd)).toEndWith(n('boundary="outer"\r\n'));
    expect(text(raw, root.bodyStart, root.bodyEnd)).toStartWith(n("preamble\r\n--outer\r\n"));
    expect(root.bodyEnd).toBe(raw.length);
  });

  test("MIME header offsets, and line counts for text and message parts", () => {
    const p = partAt(root, "1.1")!;
    expect(text(raw, p.headerStart, p.headerEnd)).toBe(
      n("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n"),
    );
    expect(text(raw, p.headerEnd, p.bodyStart)).toBe(eol);
    expect(p.lines).toBe(3);
    expect(partAt(root, "1.2")!.lines).toBe(1);
    expect(partAt(root, "3")!.lines).toBe(5);
    expect(partAt(root, "2")!.lines).toBe(0);
  });

  test("message/rfc822 parts carry the enclosed envelope and structure", () => {
    const inner = partAt(root, "3")!;
    expect(inner.message!.envelope.subject).toBe("inner");
    expect(inner.message!.envelope.from).toEqual([{ name: "Inner Person", mailbox: "inner", host: "example.test" }]);
    expect(inner.message!.envelope.sender).toEqual(inner.message!.envelope.from);
    expect(inner.message!.envelope.replyTo).toEqual([{ name: null, mailbox: "replies", host: "example.test" }]);
    expect(partAt(root, "3.1")).toBe(inner.message!.body);
    expect(body("3.1")).toBe("inner body");
    expect(text(raw, inner.message!.body.headerStart, inner.message!.body.headerEnd)).toStartWith("From: Inner");
  });

  test("part numbers that do not exist", () => {
    for (const path of ["9", "0", "1.3", "2.1", "3.2", "3.1.1", "", "1.", "x", "01"]) {
      expect(partAt(root, path)).toBeNull();
    }
  });

  test("the tree is plain JSON", () => {
    expect(JSON.parse(JSON.stringify(root))).toEqual(root);
  });
}

describe("MIME structure, CRLF", () => check("\r\n"));
describe("MIME structure, bare LF", () => check("\n"));

describe("MIME structure, edge cases", () => {
  test("a single-part message: part 1 is its body; defaults per RFC 2045 §5.2", () => {
    const raw = enc.encode("Subject: x\n\nline1\nline2\n");
    const s = parseStructure(raw);
    expect([s.type, s.subtype, s.params, s.encoding]).toEqual(["text", "plain", { charset: "us-ascii" }, "7bit"]);
    expect(s.lines).toBe(2);
    expect(partAt(s, "1")).toBe(s);
    expect(partAt(s, "1.1")).toBeNull();
    expect(text(raw, s.bodyStart, s.bodyEnd)).toBe("line1\nline2\n");
  });

  test("a message without a body, and an empty message", () => {
    const s = parseStructure(enc.encode("Subject: x\r\n"));
    expect([s.headerEnd, s.bodyStart, s.bodyEnd, s.lines]).toEqual([12, 12, 12, 0]);
    expect(parseStructure(new Uint8Array()).type).toBe("text");
  });

  test("a top-level message/rfc822: part 1 is the enclosed message, 1.1 its body", () => {
    const s = parseStructure(enc.encode("Content-Type: message/rfc822\r\n\r\nSubject: in\r\n\r\nbody"));
    expect(partAt(s, "1")).toBe(s);
    expect(partAt(s, "1.1")).toBe(s.message!.body);
    expect(partAt(s, "2")).toBeNull();
  });

  test("a truncated multipart ends its last part at the end of the message", () => {
    const raw = enc.encode(
      crlf(["Content-Type: multipart/mixed; boundary=b", "", "--b", "", "first", "--b", "", "unfinished"]),
    );
    const s = parseStructure(raw);
    expect(s.parts!.length).toBe(2);
    expect(text(raw, s.parts![0]!.bodyStart, s.parts![0]!.bodyEnd)).toBe("first");
    expect(text(raw, s.parts![1]!.bodyStart, s.parts![1]!.bodyEnd)).toBe("unfinished");
  });

  test("delimiters: transport padding, look-alike lines, no delimiter at all", () => {
    const raw = enc.encode(
      crlf(["Content-Type: multipart/mixed; boundary=b", "", "--b \t", "", "--bx is text", "--b--  ", "after"]),
    );
    const s = parseStructure(raw);
    expect(s.parts!.length).toBe(1);
    expect(text(raw, s.parts![0]!.bodyStart, s.parts![0]!.bodyEnd)).toBe("--bx is text");
    const none = parseStructure(enc.encode("Content-Type: multipart/mixed; boundary=zz\r\n\r\nno parts here\r\n"));
    expect(none.parts!.length).toBe(1);
    expect(none.parts![0]!.bodyStart).toBe(none.parts![0]!.bodyEnd);
  });

  test("multipart/digest parts default to message/rfc822 (RFC 2046 §5.1.5)", () => {
    const s = parseStructure(
      enc.encode(crlf(["Content-Type: multipart/digest; boundary=d", "", "--d", "", "Subject: one", "", "1", "--d--"])),
    );
    expect(`${s.parts![0]!.type}/${s.parts![0]!.subtype}`).toBe("message/rfc822");
    expect(s.parts![0]!.message!.envelope.subject).toBe("one");
  });

  test("broken headers: no boundary, bad type, encoded message/rfc822", () => {
    const noBoundary = parseStructure(enc.encode("Content-Type: multipart/mixed\r\n\r\n--x\r\n"));
    expect([noBoundary.type, noBoundary.subtype, noBoundary.parts]).toEqual(["application", "octet-stream", undefined]);
    const bad = parseStructure(enc.encode("Content-Type: text\r\nContent-Transfer-Encoding: BASE64 (why)\r\n\r\nx"));
    expect([bad.type, bad.subtype, bad.params, bad.encoding]).toEqual([
      "text",
      "plain",
      { charset: "us-ascii" },
      "base64",
    ]);
    const encoded = parseStructure(
      enc.encode("Content-Type: message/rfc822\r\nContent-Transfer-Encoding: base64\r\n\r\nU3ViamVjdDogeA=="),
    );
    expect([encoded.type, encoded.message]).toEqual(["message", undefined]);
  });

  test("garbage never throws", () => {
    const samples = [
      Uint8Array.of(0, 255, 13, 10, 58, 58),
      Uint8Array.of(13, 13, 10, 10, 10),
      enc.encode('Content-Type: multipart/x; boundary=""\r\n\r\n--\r\n--\r\n'),
    ];
    let seed = 7;
    for (let i = 0; i < 200; i++) {
      const bytes = new Uint8Array(200);
      for (let j = 0; j < bytes.length; j++) bytes[j] = (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % 128;
      samples.push(bytes);
    }
    for (const s of samples) expect(() => parseStructure(s)).not.toThrow();
  });
});

describe("MIME structure, hostile input", () => {
  const depth = (p: MimePart): number =>
    1 + Math.max(0, ...(p.parts ?? []).map(depth), p.message ? depth(p.message.body) : 0);
  const count = (p: MimePart): number =>
    1 + (p.parts ?? []).reduce((n, c) => n + count(c), 0) + (p.message ? count(p.message.body) : 0);

  test("10,000 nested multiparts finish quickly; the depth is capped", () => {
    let bomb = "";
    for (let i = 0; i < 10_000; i++) bomb += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    const started = performance.now();
    const s = parseStructure(enc.encode(bomb));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(s.type).toBe("multipart");
    expect(depth(s)).toBeLessThanOrEqual(52);
  });

  test("10,000 nested messages finish quickly", () => {
    const bomb = "Content-Type: message/rfc822\r\n\r\n".repeat(10_000);
    const started = performance.now();
    const s = parseStructure(enc.encode(bomb));
    expect(performance.now() - started).toBeLessThan(2000);
    expect(depth(s)).toBeLessThanOrEqual(52);
  });

  test("a million tiny parts are cut to the part limit", () => {
    const bomb = `Content-Type: multipart/mixed; boundary=b\r\n\r\n${"--b\r\n".repeat(1_000_000)}`;
    const started = performance.now();
    const s = parseStructure(enc.encode(bomb));
    expect(performance.now() - started).toBeLessThan(3000);
    expect(count(s)).toBeLessThanOrEqual(MAX_PARTS + 1);
  });

  test("wide and deep at once stays within the part limit", () => {
    let inner = "x";
    for (let i = 0; i < 7; i++) {
      inner = `Content-Type: multipart/mixed; boundary=l${i}\r\n\r\n${`--l${i}\r\n${inner}\r\n`.repeat(4)}--l${i}--`;
    }
    const s = parseStructure(enc.encode(inner));
    expect(count(s)).toBeLessThanOrEqual(MAX_PARTS + 50);
  });
});
