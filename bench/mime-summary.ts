/**
 * The MIME summary (`summarize`, src/mime/summary.ts), which delivery computes once per message:
 * CPU µs per message (the median of 7 rounds, `process.cpuUsage`: other load on the machine
 * matters less than to wall time) on
 *   - the message of the SMTP ingest benchmark: smtp-source's header and 4 KiB body of short
 *     lines, with the Authentication-Results, Received-SPF and Received fields Postern prepends;
 *   - a multipart/mixed one: alternative (quoted-printable text, HTML), a base64 attachment;
 *   - a large one: a 1 MiB base64 attachment.
 *
 *   bun bench/mime-summary.ts [--round-ms 500] [--against DIR]
 *
 * `--against DIR` loads `DIR/src/mime/summary.ts` too (another checkout, e.g. made with
 * `git worktree add --detach /tmp/before 99a5984`), runs both in alternate rounds in this process
 * and prints the ratio. Figures (before `99a5984`, after `d70f303`): docs/benchmarks.md, "The MIME
 * summary on the ingest path".
 */
import { parseArgs } from "node:util";
import { summarize } from "../src/mime/summary.ts";

const enc = new TextEncoder();
const crlf = (lines: string[]) => lines.join("\r\n");

/** smtp-source's body: 80-byte lines, "1XXX…", "2XXX…", cut at `size` bytes. */
function sourceBody(size: number): string {
  let body = "";
  for (let i = 1; body.length < size; i++) body += `${i % 10}${"X".repeat(77)}\r\n`;
  return body.slice(0, size);
}

const stamp = "Sun, 29 Nov 2026 07:28:49 +0000";
export const SMTP_SOURCE = crlf([
  "Authentication-Results: mx.bench.test;",
  "\tspf=pass (mx.bench.test: domain of sender@origin.test designates 127.0.0.1 as permitted sender)",
  "\tsmtp.mailfrom=sender@origin.test;",
  "\tdkim=none (message not signed);",
  "\tdmarc=none header.from=origin.test",
  "Received-SPF: pass (mx.bench.test: domain of sender@origin.test designates 127.0.0.1 as",
  ' permitted sender) client-ip=127.0.0.1; envelope-from="sender@origin.test"; helo=vm;',
  "Received: from vm ([127.0.0.1])",
  `\tby mx.bench.test (Postern) with ESMTP id 0a1b2c3d4e5f\tfor <user@example.test>; ${stamp}`,
  "From: <sender@origin.test>",
  "To: <user@example.test>",
  `Date: ${stamp} (UTC)`,
  "Message-Id: <2408.0003.0000@vm>",
  "",
  sourceBody(4096),
]);

export const MULTIPART = crlf([
  'From: "Jörg Example" <jorg@example.test>',
  'To: team: a@example.test, "Doe, Jane" <jane@example.test>;, bob@example.test (Bob)',
  "Cc: =?UTF-8?B?SsO2cmc=?= <cc@example.test>",
  "Subject: =?ISO-8859-1?Q?Gr=FC=DFe?= =?UTF-8?Q?_aus_K=C3=B6ln?=",
  `Date: ${stamp}`,
  "Message-ID: <m1@example.test>",
  "In-Reply-To: <m0@example.test>",
  "References: <a@example.test> <m0@example.test>",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="outer"',
  "",
  "--outer",
  'Content-Type: multipart/alternative; boundary="inner"',
  "",
  "--inner",
  "Content-Type: text/plain; charset=utf-8",
  "Content-Transfer-Encoding: quoted-printable",
  "",
  ...Array.from({ length: 30 }, (_, i) => `Line ${i} of the text, with an umlaut =C3=A4 and a soft break=`),
  "",
  "--inner",
  "Content-Type: text/html; charset=utf-8",
  "",
  `<html><head><style>p { color: red }</style></head><body>${"<p>Paragraph &amp; text</p>".repeat(40)}</body></html>`,
  "--inner--",
  "",
  "--outer",
  'Content-Type: application/pdf; name="report.pdf"',
  'Content-Disposition: attachment; filename="report.pdf"',
  "Content-Transfer-Encoding: base64",
  "",
  ...Array.from({ length: 40 }, () => "JVBERi0xLjQKJcfsj6IKNSAwIG9iago8PC9MZW5ndGggNiAwIFIvRmlsdGVyIC9GbGF0ZURlY29k"),
  "--outer--",
  "",
]);

export const LARGE = crlf([
  "From: <sender@origin.test>",
  "To: <user@example.test>",
  `Date: ${stamp}`,
  "Subject: a large attachment",
  "MIME-Version: 1.0",
  'Content-Type: multipart/mixed; boundary="b"',
  "",
  "--b",
  "Content-Type: text/plain",
  "",
  "See the attachment.",
  "--b",
  "Content-Type: application/octet-stream",
  "Content-Transfer-Encoding: base64",
  "",
  ...Array.from({ length: 14_000 }, () => "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx"),
  "--b--",
  "",
]);

type Summarize = (raw: Uint8Array) => unknown;

/** CPU µs per call of `f` over about `ms` milliseconds, after a warm-up. */
function measure(f: Summarize, raw: Uint8Array, ms: number): number {
  for (let i = 0; i < 100; i++) f(raw);
  let n = 0;
  const cpu = process.cpuUsage();
  const until = performance.now() + ms;
  while (performance.now() < until) {
    for (let i = 0; i < 10; i++) f(raw);
    n += 10;
  }
  const used = process.cpuUsage(cpu);
  return (used.user + used.system) / n;
}

const median = (xs: number[]) => xs.toSorted((a, b) => a - b)[xs.length >> 1]!;

if (import.meta.main) {
  const { values } = parseArgs({
    options: { "round-ms": { type: "string", default: "500" }, against: { type: "string" } },
  });
  const ms = Number(values["round-ms"]);
  const other: Summarize | null = values.against
    ? (await import(`${values.against}/src/mime/summary.ts`)).summarize
    : null;
  for (const [name, text] of [["smtp-source", SMTP_SOURCE], ["multipart", MULTIPART], ["large", LARGE]] as const) {
    const raw = enc.encode(text);
    const here: number[] = [];
    const there: number[] = [];
    for (let round = 0; round < 7; round++) {
      here.push(measure(summarize, raw, ms));
      if (other) there.push(measure(other, raw, ms));
    }
    const line = `${name.padEnd(12)} ${String(raw.length).padStart(8)} bytes ${median(here).toFixed(1).padStart(8)} µs`;
    console.log(
      other
        ? `${line}   --against: ${median(there).toFixed(1)} µs, ${(median(there) / median(here)).toFixed(2)} × this`
        : line,
    );
  }
}
