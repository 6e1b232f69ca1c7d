/**
 * Properties of the pure SMTP syntax pieces: command lines (src/smtp/command.ts), paths
 * (src/smtp/path.ts) and DATA content (src/smtp/data.ts).
 *
 * - `parseCommand` never throws on arbitrary or near-valid lines; a refusal is a 5xx reply value
 *   with a 5.x.x enhanced code;
 * - an accepted MAIL/RCPT mailbox keeps Postern's limits (local part 255 octets, domain 255, path
 *   512: RFC 5321 §4.5.3.1 asks for tolerance of longer objects than its 64/255/256, and SRS
 *   addresses need it), is put together consistently, and its canonical address parses back
 *   to the same mailbox; generated dot-atom@domain addresses parse to exactly themselves, and a
 *   local part is refused exactly when it passes 255 octets;
 * - DATA: dot-stuffed content (RFC 5321 §4.5.2) decodes back to itself whatever the chunking;
 *   the data ends exactly at the first <CRLF>.<CRLF> (§4.1.1.4, the SMTP smuggling defence)
 *   and what follows it is left untouched; the decoder's state does not depend on the chunking.
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { LineFramer } from "../../src/net/line-framer.ts";
import { parseCommand } from "../../src/smtp/command.ts";
import { dotStuff } from "../../src/mime/dot-stuffing.ts";
import { DataDecoder } from "../../src/smtp/data.ts";
import { type Mailbox, MAX_LOCAL_PART, MAX_PATH, parsePath } from "../../src/smtp/path.ts";
import { binary, bytes, concat, cuts, junk, nearValid, settings, split, TEST_TIMEOUT_MS, wire } from "./arbitraries.ts";
import { commandLine, path } from "./smtp-wire.ts";

const dec = new TextDecoder();
const octets = (s: string) => new TextEncoder().encode(s).length;

/** A command line as the session sees it: the framed bytes decoded as UTF-8 (invalid octets become U+FFFD). */
const lineText = fc.oneof(nearValid(commandLine), junk(80)).map((l) => dec.decode(wire(l)));

function expectConsistent(m: Mailbox): void {
  if (m.domain === "") {
    expect(m).toEqual({ localPart: "postmaster", domain: "", address: "postmaster", utf8: false });
    return;
  }
  expect(octets(m.localPart)).toBeLessThanOrEqual(MAX_LOCAL_PART);
  expect(octets(m.domain)).toBeLessThanOrEqual(255);
  expect(octets(m.address) + 2).toBeLessThanOrEqual(MAX_PATH);
  expect(m.address).toBe(`${m.localPart}@${m.domain}`);
  if (!m.domain.startsWith("[")) expect(m.domain).toBe(m.domain.toLowerCase());
  expect(m.utf8).toBe(/[^\x00-\x7f]/.test(m.address));
}

describe("SMTP command and path properties", () => {
  test("parseCommand never throws; refusals are 5xx replies with a 5.x.x code", () => {
    fc.assert(
      fc.property(lineText, (line) => {
        const parsed = parseCommand(line);
        if (parsed.ok) return;
        expect([500, 501, 555]).toContain(parsed.reply.code);
        expect(parsed.reply.enhanced).toMatch(/^5\.\d{1,3}\.\d{1,3}$/);
      }),
      settings(4),
    );
  }, TEST_TIMEOUT_MS);

  test("accepted MAIL and RCPT mailboxes keep the length limits and are consistent", () => {
    fc.assert(
      fc.property(lineText, (line) => {
        const parsed = parseCommand(line);
        if (!parsed.ok) return;
        const command = parsed.command;
        if (command.verb === "MAIL" && command.from) expectConsistent(command.from);
        if (command.verb === "RCPT") expectConsistent(command.to);
      }),
      settings(4),
    );
  }, TEST_TIMEOUT_MS);

  test("a parsed path's canonical address parses back to the same mailbox", () => {
    const options = fc.constantFrom({ allowNull: true }, { allowPostmaster: true }, {});
    fc.assert(
      fc.property(nearValid(path).map((p) => dec.decode(wire(p))), options, (text, opts) => {
        const first = parsePath(text, opts);
        if (!first.ok || first.mailbox === null) return;
        const again = parsePath(`<${first.mailbox.address}>`, opts);
        expect(again).toEqual({ ok: true, mailbox: first.mailbox, rest: "" });
      }),
      settings(4),
    );
  }, TEST_TIMEOUT_MS);

  test("a local part is accepted up to 255 octets (past RFC 5321's 64, for SRS) and refused past it", () => {
    const atom = fc.stringMatching(/^[A-Za-z0-9=+/-]{1,40}$/);
    const local = fc.array(atom, { minLength: 1, maxLength: 10 }).map((a) => a.join("."));
    fc.assert(
      fc.property(local, fc.constantFrom("RCPT TO:", "MAIL FROM:"), (l, verb) => {
        const parsed = parseCommand(`${verb}<${l}@forwarder.test>`);
        if (octets(l) <= MAX_LOCAL_PART) {
          expect(parsed.ok).toBe(true);
          if (!parsed.ok) return;
          const m = parsed.command.verb === "RCPT"
            ? parsed.command.to
            : parsed.command.verb === "MAIL"
            ? parsed.command.from
            : null;
          expect(m?.localPart).toBe(l);
        } else {
          expect(parsed.ok).toBe(false);
          if (!parsed.ok) expect(parsed.reply.code).toBe(501);
        }
      }),
      settings(2),
    );
    // The SRS1 bounce address of a long sender: 100 octets and more.
    const srs1 = `SRS1=AbC+=first-hop.example.test==Zx/9=K2=${"very-long-department-name.".repeat(3)}example=${
      "x".repeat(20)
    }`;
    expect(octets(srs1)).toBeGreaterThan(64);
    expect(parsePath(`<${srs1}@mx.forwarder.test>`).ok).toBe(true);
    expect(parsePath(`<${"a".repeat(256)}@b.test>`)).toEqual({
      ok: false,
      reason: "local part longer than 255 octets",
    });
    // A 255-octet local part at a 255-octet domain: 513 octets with the brackets.
    const longest = ["b", "c", "d", "e"].map((c) => c.repeat(63)).join(".");
    expect(parsePath(`<${"a".repeat(255)}@${longest}>`)).toEqual({ ok: false, reason: "path longer than 512 octets" });
    expect(parsePath(`<${"a".repeat(254)}@${longest}>`).ok).toBe(true);
  }, TEST_TIMEOUT_MS);

  test("a generated dot-atom@domain parses to exactly itself", () => {
    const atom = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]{1,10}$/);
    const local = fc.array(atom, { minLength: 1, maxLength: 3 }).map((a) => a.join("."));
    const label = fc.stringMatching(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,10}[A-Za-z0-9])?$/);
    const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((a) => a.join("."));
    fc.assert(
      fc.property(local, domain, fc.constantFrom("", " SIZE=10", " NOTIFY=NEVER"), (l, d, rest) => {
        const result = parsePath(`<${l}@${d}>${rest}`);
        const lower = d.toLowerCase();
        expect(result).toEqual({
          ok: true,
          mailbox: { localPart: l, domain: lower, address: `${l}@${lower}`, utf8: false },
          rest: rest.trim(),
        });
      }),
      settings(2),
    );
  }, TEST_TIMEOUT_MS);
});

// ---------------------------------------------------------------------------------------------
// DATA

interface Decoded {
  ended: boolean;
  content: string;
  bareLineFeeds: number;
  size: number;
  exceeded: boolean;
  /** The bytes after the end of data, untouched. */
  rest: string;
}

/**
 * Reads DATA until its end. With `part`, as src/smtp/server.ts does: lines longer than `part` come in parts and
 * the decoded bytes are taken as they gather (the spool); without, whole lines up to the message size.
 */
function readData(chunks: Uint8Array[], maxSize: number, part?: number): Decoded {
  const framer = new LineFramer();
  const decoder = new DataDecoder(maxSize);
  const taken: Uint8Array[] = [];
  let next = 0;
  for (;;) {
    const line = part === undefined ? framer.readLine(maxSize) : framer.readLineOrPart(part);
    if (!line) {
      if (next >= chunks.length) break;
      framer.push(chunks[next++]!);
      continue;
    }
    if (decoder.push(line)) {
      const rest = concat([framer.readBytes(framer.length)!, ...chunks.slice(next)]);
      return { ended: true, ...state(decoder, taken), rest: binary(rest) };
    }
    if (part !== undefined && decoder.pending >= part) taken.push(decoder.take().slice());
  }
  return { ended: false, ...state(decoder, taken), rest: "" };
}

function state(d: DataDecoder, taken: Uint8Array[]) {
  const content = binary(concat([...taken, d.result()]));
  return { content, bareLineFeeds: d.bareLineFeeds, size: d.size, exceeded: d.exceeded };
}

/** Octets that matter to DATA framing, plus anything. */
const dataStream = fc.oneof(
  bytes(400),
  fc.array(fc.constantFrom("\r\n", "\n", "\r", ".", "..", ".\r\n", "\r\n.\r\n", "\n.\r\n", "x", "ab", "\0"), {
    maxLength: 40,
  })
    .map((parts) => wire(parts.join(""))),
);

/** Where <CRLF>.<CRLF> first occurs, DATA's own CRLF counting as the first CRLF; -1 if never. */
function endOfData(stream: Uint8Array): number {
  const at = ("\r\n" + binary(stream)).indexOf("\r\n.\r\n");
  return at === -1 ? -1 : at + 3;
}

describe("SMTP DATA properties", () => {
  test("dot-stuffed content decodes back to itself, whatever the chunking", () => {
    const line = fc.oneof(junk(40), fc.constantFrom(".", "..", ".\r", "x.", "")).map((l) => l.replaceAll("\n", ""));
    const content = fc.array(line, { maxLength: 12 }).map((ls) => ls.map((l) => `${l}\r\n`).join(""));
    fc.assert(
      fc.property(content, junk(20), cuts, (text, after, how) => {
        const stuffed = concat([dotStuff(wire(text)), wire(after)]);
        const decoded = readData(split(stuffed, how), 1_000_000);
        expect(decoded).toMatchObject({ ended: true, content: text, bareLineFeeds: 0, exceeded: false, rest: after });
      }),
      settings(2),
    );
  }, TEST_TIMEOUT_MS);

  test("without a size limit, DATA ends exactly at the first <CRLF>.<CRLF> and leaves the rest untouched", () => {
    fc.assert(
      fc.property(dataStream, (stream) => {
        const end = endOfData(stream);
        const decoded = readData([stream], 1_000_000);
        expect(decoded.ended).toBe(end !== -1);
        if (end !== -1) expect(decoded.rest).toBe(binary(stream.subarray(end)));
      }),
      settings(4),
    );
  }, TEST_TIMEOUT_MS);

  // Found by this property, now fixed: a DATA line over the size limit came back from the framer
  // without saying how it ended, and the decoder never saw it, so "x".repeat(1001) + "\n.\r\n"
  // ended the data at a bare-LF dot and what followed ran as commands (SMTP smuggling).
  test("with any size limit, DATA ends exactly at the first <CRLF>.<CRLF>", () => {
    fc.assert(
      fc.property(dataStream, fc.integer({ min: 1, max: 8 }), (stream, maxSize) => {
        const end = endOfData(stream);
        const decoded = readData([stream], maxSize);
        expect(decoded.ended).toBe(end !== -1);
        if (end !== -1) expect(decoded.rest).toBe(binary(stream.subarray(end)));
      }),
      settings(4),
    );
  }, TEST_TIMEOUT_MS);

  test("long lines read in parts decode as whole lines do; the end of data is found the same", () => {
    fc.assert(
      fc.property(dataStream, cuts, fc.integer({ min: 1, max: 12 }), (stream, how, part) => {
        const whole = readData([stream], 1_000_000);
        const parts = readData(split(stream, how), 1_000_000, part);
        // Data that never ends is thrown away; parts of its unfinished last line may have been read.
        if (whole.ended) expect(parts).toEqual(whole);
        else expect(parts.ended).toBe(false);
      }),
      settings(4),
    );
  }, TEST_TIMEOUT_MS);

  test("in parts and with any size limit, DATA ends exactly at the first <CRLF>.<CRLF>", () => {
    fc.assert(
      fc.property(dataStream, fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }), (stream, max, part) => {
        const end = endOfData(stream);
        const decoded = readData([stream], max, part);
        expect(decoded.ended).toBe(end !== -1);
        if (end !== -1) expect(decoded.rest).toBe(binary(stream.subarray(end)));
      }),
      settings(4),
    );
  }, TEST_TIMEOUT_MS);

  test("the decoded message and the decoder's state do not depend on the chunking", () => {
    fc.assert(
      fc.property(
        dataStream,
        cuts,
        fc.oneof(fc.integer({ min: 1, max: 40 }), fc.constant(1_000_000)),
        (stream, how, maxSize) => {
          expect(readData(split(stream, how), maxSize)).toEqual(readData([stream], maxSize));
        },
      ),
      settings(4),
    );
  }, TEST_TIMEOUT_MS);
});
