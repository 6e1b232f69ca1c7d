/**
 * Properties of the MIME summary, `summarize` (src/mime/summary.ts), on arbitrary bytes and on
 * generated near-valid messages (RFC 5322 headers, RFC 2045/2046 multiparts with random
 * boundaries, nested multiparts and message/rfc822, base64 and quoted-printable bodies, good and
 * bad charsets, RFC 2047 encoded words, RFC 2231 parameters), whole, truncated or mutated:
 *
 * - it never throws, and `decodePartBody` never throws on any part it returns;
 * - offsets stay inside the input: 0 <= headerStart <= headerEnd <= bodyStart <= bodyEnd <= size,
 *   and every part lies inside the body of the part that contains it;
 * - the tree respects MAX_DEPTH and MAX_PARTS, multiparts have at least one part, every
 *   text/html/attachment path resolves with `partAt`, and the preview is at most 256 characters;
 * - summarizing is deterministic: the same bytes give the same summary, also when they sit at an
 *   offset inside a larger buffer, and the summary survives its JSON storage unchanged.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { PREVIEW_LENGTH } from "../../src/mime/preview.ts";
import { MAX_DEPTH, MAX_PARTS, type MimePart } from "../../src/mime/structure.ts";
import { decodePartBody, partAt, summarize } from "../../src/mime/summary.ts";
import { bytes, junk, nearValid, settings, TEST_TIMEOUT_MS, utf8, wire } from "./arbitraries.ts";

// ---------------------------------------------------------------------------------------------
// Generators (messages as binary strings, written with CRLF and converted afterwards)

const fold = (value: fc.Arbitrary<string>) =>
  fc.tuple(value, fc.boolean()).map(([v, f]) => (f ? v.replace(" ", "\r\n ") : v));

const subject = fc.oneof(
  fc.constantFrom(
    "=?UTF-8?B?SsO2cmc=?=",
    "=?ISO-8859-1?Q?Gr=FC=DFe?= =?UTF-8?Q?_aus_K=C3=B6ln?=",
    "=?bogus?X?abc?=",
    "=?utf-8?B?!!!?=",
    "=?utf-16?B?AAA=?=",
    "=?UTF-8?Q?a_b?= =?UTF-8?Q?c",
    "hello world",
    utf8("Grüße"),
    "\xff\xfe latin-1",
    "",
  ),
  junk(30),
);
const address = fc.oneof(
  fc.constantFrom(
    '"Doe, Jane" <jane@example.test>',
    "team: a@example.test, b@example.test;",
    "<>",
    "@@@",
    "a@b (comment",
    '"open <x@y>',
    "=?utf-8?B?SsO2cmc=?= <j@x.test>",
    "undisclosed-recipients:;",
    "a@b, , ,c@d",
    "<a@b>>",
    utf8("jörg@bücher.test"),
  ),
  junk(20),
);
const date = fc.constantFrom(
  "Mon, 23 Nov 2026 10:00:00 +0100",
  "23 Nov 26 10:00 EST",
  "31 Feb 2026 10:00:00 +0000",
  "Mon, 99 Foo 2026 99:99:99 +9999",
  "garbage",
  "",
  "Mon, 23 Nov 2026 10:00:00 (comment +0100",
  "1 Jan 0 0:0:0 -2400",
);
const messageId = fc.constantFrom("<a@b>", "<<>>", "a@b", "<a@b> <c@d>", "<", "<x@y> (c) <z@w>");
const charset = fc.constantFrom(
  "utf-8",
  "UTF-8",
  "utf8",
  "iso-8859-1",
  "windows-1252",
  "us-ascii",
  "x-unknown",
  "utf-16",
  "utf-16be",
  "UTF-7",
  "iso-2022-jp",
  "gb18030",
  "ks_c_5601-1987",
  "bogus",
  '"quoted"',
  "",
  "replacement",
);
const disposition = fc.constantFrom(
  'attachment; filename="a.pdf"',
  "inline",
  "attachment; filename*=utf-8''%E2%82%AC.pdf",
  "attachment; filename*0*=x; filename*1=y",
  "attachment; filename*=bogus''%ZZ%",
  "attachment; filename*=utf-16''%D8",
  ";;;",
  "",
  "attachment; filename*99999=x",
  "inline; name*1=a",
);
const encoding = fc.constantFrom(
  "7bit",
  "8bit",
  "binary",
  "base64",
  "BASE64",
  "quoted-printable",
  "x-uuencode",
  "base64 (comment)",
  "",
);
const leafType = fc.constantFrom(
  "text/plain",
  "text/html",
  "TEXT/HTML",
  "application/pdf",
  "image/png",
  "audio/ogg",
  "text",
  "",
  "x/y/z",
  "text/",
  "multipart/mixed",
  "message/rfc822",
  "message/global",
);

/** Extra header fields, most of them meaningful to the summary. */
const extraHeaders = fc.array(
  fc.oneof(
    fold(subject).map((v) => `Subject: ${v}`),
    fold(address).chain((v) =>
      fc.constantFrom("From", "To", "Cc", "Bcc", "Reply-To", "Sender").map((n) => `${n}: ${v}`)
    ),
    date.map((v) => `Date: ${v}`),
    messageId.chain((v) => fc.constantFrom("Message-ID", "In-Reply-To", "References").map((n) => `${n}: ${v}`)),
    fold(disposition).map((v) => `Content-Disposition: ${v}`),
    fc.constantFrom(
      "Content-ID: <img@x>",
      "Content-Language: en, (c) de",
      "Content-Location: x",
      "Content-MD5: abc",
      "MIME-Version: 1.0",
      "From mbox line",
      " continuation without a field",
      "X-Junk:",
      ":",
      "Bad Name: x",
    ),
    junk(30),
  ),
  { maxLength: 4 },
);

const text = fc.array(
  fc.oneof(junk(40), fc.constantFrom("Hello &amp; welcome", "=3D=\r\n", "line=", "=ZZ", ".", "--not-a-boundary")),
  { maxLength: 5 },
)
  .map((ls) => ls.join("\r\n"));
const leafBody = fc.oneof(
  text,
  junk(60).map((j) => btoa(j).replace(/(.{20})/g, "$1\r\n")),
  fc.constantFrom(
    "SGVsbG8=\r\nV29ybGQ=",
    "!!!==",
    "QUJD",
    "=C3=A4 Welt=\r\n  and= \r\nmore=4",
    "<html><head><title>T</title><style>p{}</style></head>" +
      "<body><p>Hi&nbsp;&amp; &#x1F600; &#99999999; &#xD800;</p><script>x()</script><!-- c -->",
    "<p>unclosed <b",
    "<!-- open",
    "<script>never closed",
  ),
);

const leaf = fc.tuple(extraHeaders, leafType, charset, encoding, leafBody, fc.boolean())
  .map(([headers, type, cs, enc, body, noType]) =>
    [
      ...headers,
      ...(noType ? [] : [`Content-Type: ${type}; charset=${cs}`]),
      `Content-Transfer-Encoding: ${enc}`,
      "",
      body,
    ].join("\r\n")
  );

const boundary = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,70}$/),
  fc.constantFrom("b", "==_x", "a b", "", "-", "--", "x".repeat(200), utf8("ü")),
);

/** RFC 2046 §5.1: preamble, delimiter lines (with odd white space), parts, close delimiter, epilogue. */
const multipart = (entity: fc.Arbitrary<string>) =>
  fc.tuple(
    extraHeaders,
    fc.constantFrom("mixed", "alternative", "related", "digest", "MIXED", "signed"),
    boundary,
    fc.constantFrom((b: string) => `"${b}"`, (b: string) => b, (b: string) => `${b}; boundary=other`, () => ""),
    fc.array(entity, { maxLength: 4 }),
    fc.constantFrom("", "preamble\r\n", "--b\r\n"),
    fc.constantFrom("", " ", "\t \t", "--", "x"),
    fc.constantFrom("--", "", "-"),
    fc.constantFrom("", "\r\nepilogue", "\r\n--b--\r\n"),
  ).map(([headers, subtype, b, param, parts, preamble, padding, close, epilogue]) =>
    [...headers, `Content-Type: multipart/${subtype}; boundary=${param(b)}`, "", preamble]
      .join("\r\n") + parts.map((p) => `--${b}${padding}\r\n${p}\r\n`).join("") + `--${b}${close}${epilogue}`
  );

const enclosed = (entity: fc.Arbitrary<string>) =>
  fc.tuple(encoding, entity).map(([enc, inner]) =>
    `Content-Type: message/rfc822\r\nContent-Transfer-Encoding: ${enc}\r\n\r\n${inner}`
  );

const { entity } = fc.letrec<{ entity: string }>((tie) => ({
  entity: fc.oneof(
    { depthSize: "small", maxDepth: 4, withCrossShrink: true },
    leaf,
    multipart(tie("entity")),
    enclosed(tie("entity")),
  ),
}));

/** A message whole, truncated, or damaged; with CRLF, bare LF or a mix of both. */
const message = fc.tuple(nearValid(entity), fc.option(fc.nat(), { freq: 3 }), fc.constantFrom("crlf", "lf", "mixed"))
  .map(([m, cut, ends]) => {
    let out = cut === null ? m : m.slice(0, cut % (m.length + 1));
    if (ends === "lf") out = out.replaceAll("\r\n", "\n");
    if (ends === "mixed") out = out.replace(/\r\n/g, (crlf, at: number) => (at % 3 === 0 ? "\n" : crlf));
    return wire(out);
  });

const input = fc.oneof({ arbitrary: message, weight: 3 }, { arbitrary: bytes(1500), weight: 1 });

// ---------------------------------------------------------------------------------------------
// Checks

/** Every part with its depth, enclosed messages' bodies included. */
function* walk(part: MimePart, depth = 0): Generator<[MimePart, number]> {
  yield [part, depth];
  for (const child of part.parts ?? []) yield* walk(child, depth + 1);
  if (part.message) yield* walk(part.message.body, depth + 1);
}

function expectInside(child: MimePart, parent: MimePart): void {
  expect(child.headerStart).toBeGreaterThanOrEqual(parent.bodyStart);
  expect(child.bodyEnd).toBeLessThanOrEqual(parent.bodyEnd);
}

function expectSound(raw: Uint8Array): void {
  const s = summarize(raw);
  expect(s.size).toBe(raw.length);
  let count = 0;
  for (const [part, depth] of walk(s.body)) {
    count++;
    expect(depth).toBeLessThanOrEqual(MAX_DEPTH);
    expect(0 <= part.headerStart && part.headerStart <= part.headerEnd && part.headerEnd <= part.bodyStart).toBe(true);
    expect(part.bodyStart <= part.bodyEnd && part.bodyEnd <= raw.length).toBe(true);
    expect(Number.isInteger(part.lines) && part.lines >= 0).toBe(true);
    if (part.parts) {
      expect(part.parts.length).toBeGreaterThan(0);
      for (const child of part.parts) expectInside(child, part);
    }
    if (part.message) expectInside(part.message.body, part);
    expect(decodePartBody(raw, part)).toBeInstanceOf(Uint8Array);
  }
  expect(count).toBeLessThanOrEqual(MAX_PARTS);
  for (const path of [...s.textParts, ...s.htmlParts, ...s.attachments]) expect(partAt(s.body, path)).not.toBeNull();
  expect(Array.from(s.preview).length).toBeLessThanOrEqual(PREVIEW_LENGTH);
}

describe("MIME summary properties", () => {
  test("never throws; offsets stay in the input and nest; paths resolve; the preview is bounded", () => {
    fc.assert(fc.property(input, expectSound), settings());
  }, TEST_TIMEOUT_MS);

  test(
    "deterministic: the same bytes, also at an offset in a larger buffer, give the same summary, which survives JSON",
    () => {
      fc.assert(
        fc.property(input, bytes(8), bytes(8), (raw, before, after) => {
          const first = summarize(raw);
          const buffer = new Uint8Array(before.length + raw.length + after.length);
          buffer.set(before);
          buffer.set(raw, before.length);
          buffer.set(after, before.length + raw.length);
          expect(summarize(buffer.subarray(before.length, before.length + raw.length))).toEqual(first);
          expect(summarize(raw.slice())).toEqual(first);
          expect(JSON.parse(JSON.stringify(first))).toEqual(first);
        }),
        settings(),
      );
    },
    TEST_TIMEOUT_MS,
  );

  test("very wide and very deep messages stay within MAX_PARTS and MAX_DEPTH", () => {
    const wide = fc.integer({ min: 1, max: 2500 }).map((n) =>
      `Content-Type: multipart/mixed; boundary=b\r\n\r\n${"--b\r\n\r\nx\r\n".repeat(n)}--b--`
    );
    const deep = fc.tuple(fc.integer({ min: 1, max: 120 }), fc.boolean()).map(([n, rfc822]) => {
      let m = "Content-Type: text/plain\r\n\r\nleaf";
      for (let i = 0; i < n; i++) {
        m = rfc822 && i % 2
          ? `Content-Type: message/rfc822\r\n\r\n${m}`
          : `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n${m}\r\n--b${i}--`;
      }
      return m;
    });
    fc.assert(fc.property(fc.oneof(wide, deep).map(wire), expectSound), settings(0.1));
  }, TEST_TIMEOUT_MS);
});
