/**
 * Properties of the SMTP session (src/smtp/session.ts) driven through the framer and the DATA
 * decoder as src/smtp/server.ts drives it (see smtp-wire.ts):
 *
 * - arbitrary bytes and near-valid command streams never make it throw or hang: every step
 *   settles, every reply is a well-formed RFC 5321 reply (code 2xx-5xx, enhanced code of the same
 *   class, RFC 3463), a close always comes with 221 or 421, and no more 5xx replies are sent
 *   than the error limit allows;
 * - chunking independence: the same stream in arbitrary chunks gives the same steps, the same
 *   replies and the same delivered messages as in one piece;
 * - after any command sequence, once the client is back at a command prompt, RSET is answered
 *   250 and QUIT 221 with a close action (RFC 5321 §4.1.1.5, §4.1.1.10).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { formatReply, type Reply, reply } from "../../src/smtp/reply.ts";
import { bytes, cuts, settings, split, TEST_TIMEOUT_MS, wire } from "./arbitraries.ts";
import { clientStream, SmtpWire, wireOptions } from "./smtp-wire.ts";

const input = fc.oneof({ arbitrary: clientStream.map(wire), weight: 3 }, { arbitrary: bytes(800), weight: 1 });

/** RFC 5321 §4.2 reply shape, with the RFC 3463 enhanced code (when present) in the same class. */
function expectWellFormed(r: Reply): void {
  expect(Number.isInteger(r.code) && r.code >= 200 && r.code <= 599).toBe(true);
  if (r.enhanced !== undefined) {
    expect(r.enhanced).toMatch(/^[245]\.\d{1,3}\.\d{1,3}$/);
    expect(r.enhanced[0]).toBe(String(r.code)[0]);
  }
  for (const line of formatReply(r).split("\r\n").slice(0, -1)) expect(line).toMatch(new RegExp(`^${r.code}[ -]`));
}

/** textstring = 1*(%d09 / %d32-126) (RFC 5321 §4.2), UTF-8 allowed (RFC 6531): no CR, LF, NUL or other controls. */
function expectPrintable(r: Reply): void {
  for (const line of r.lines) expect(line).not.toMatch(/[\x00-\x08\x0a-\x1f\x7f]/);
}

describe("SMTP session properties", () => {
  test(
    "arbitrary and near-valid input never throws or hangs; replies are well-formed; closes say 221/421",
    async () => {
      await fc.assert(
        fc.asyncProperty(input, cuts, wireOptions, async (stream, how, options) => {
          const w = new SmtpWire(options);
          for (const chunk of split(stream, how)) await w.push(chunk);
          for (const step of w.steps) {
            for (const r of step.replies) expectWellFormed(r);
            if (step.action === "close") expect([221, 421]).toContain(step.replies.at(-1)!.code);
          }
          // The session ends itself at the error limit (RFC 5321 §4.5.3.2 leaves the count to the server).
          expect(w.replies.filter((r) => r.code >= 500).length).toBeLessThanOrEqual(options.session.maxErrors);
        }),
        settings(),
      );
    },
    TEST_TIMEOUT_MS,
  );

  // Found by this property, now fixed: client bytes were echoed into replies unfiltered
  // ("555 5.5.4 Malformed parameter X\rY", an EHLO name with NUL and ESC in the greeting).
  test("reply text has no control characters (RFC 5321 §4.2 textstring)", async () => {
    await fc.assert(
      fc.asyncProperty(input, wireOptions, async (stream, options) => {
        const w = new SmtpWire(options);
        await w.push(stream);
        for (const r of w.replies) expectPrintable(r);
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);

  test("the same stream in arbitrary chunks gives the same steps and deliveries as in one piece", async () => {
    await fc.assert(
      fc.asyncProperty(clientStream.map(wire), cuts, wireOptions, async (stream, how, options) => {
        const whole = new SmtpWire(options);
        await whole.push(stream);
        const chunked = new SmtpWire(options);
        for (const chunk of split(stream, how)) await chunked.push(chunk);
        expect(chunked.steps).toEqual(whole.steps);
        expect(chunked.backend.delivered).toEqual(whole.backend.delivered);
        expect(chunked.mode.kind).toBe(whole.mode.kind);
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);

  test("after any command sequence, RSET gets 250 and QUIT gets 221 and a close", async () => {
    await fc.assert(
      fc.asyncProperty(input, wireOptions, async (stream, options) => {
        // Enough commands for the script: this property is about states, not the command limit.
        const w = new SmtpWire({ ...options, session: { ...options.session, maxCommands: 10_000 } });
        await w.push(stream);
        // Back to a command prompt as a client would get there: finish TLS, end DATA, send the
        // rest of a BDAT chunk, end a partial line, cancel SASL (RFC 4954 §4).
        for (let i = 0; i < 8 && w.mode.kind !== "closed"; i++) {
          const mode = w.mode;
          if (mode.kind === "starttls") w.tlsHandshakeDone();
          else if (mode.kind === "data") await w.push("\r\n.\r\n");
          else if (mode.kind === "chunk") {
            if (mode.left > 1_000_000) return; // a client announced a huge chunk; nothing to check
            await w.push(new Uint8Array(Math.max(0, mode.left - (mode.discard ? 0 : w.framer.length))));
          } else if (w.framer.length > 0) await w.push("\r\n");
          else if (w.replies.at(-1)?.code === 334) await w.push("*\r\n");
          else break;
        }
        if (w.mode.kind === "closed") {
          // Closed by the error or AUTH failure limit: that too ends with 421 (or 221 for a QUIT in the stream).
          expect([221, 421]).toContain(w.replies.at(-1)!.code);
          return;
        }
        expect(w.mode.kind).toBe("command");
        let from = w.steps.length;
        await w.push("RSET\r\n");
        expect(w.steps.slice(from)).toEqual([{ replies: [reply(250, "2.0.0", "Flushed")], action: "read-command" }]);
        from = w.steps.length;
        await w.push("QUIT\r\n");
        expect(w.steps.slice(from)).toEqual([{
          replies: [reply(221, "2.0.0", "mx.example.test Bye")],
          action: "close",
        }]);
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);
});
