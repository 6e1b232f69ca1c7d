/**
 * SMTP fuzzing support: generators of near-valid SMTP client input (RFC 5321 commands with
 * mutated arguments, DATA content, BDAT chunks, SASL responses) and `SmtpWire`, which feeds
 * bytes chunk by chunk through `LineFramer`, `SmtpSession` and `DataDecoder` and carries out
 * each step's action the way src/smtp/server.ts does, recording every step.
 */
import fc from "fast-check";
import { LineFramer } from "../../src/net/line-framer.ts";
import type { TlsInfo } from "../../src/connection.ts";
import { DataDecoder } from "../../src/smtp/data.ts";
import type { Reply } from "../../src/smtp/reply.ts";
import { type SessionOptions, SmtpSession, type Step } from "../../src/smtp/session.ts";
import { DEFAULTS, FakeBackend } from "../smtp/session-harness.ts";
import { anyCase, junk, lineEnd, nearValid, space, StepBudget, utf8, wire } from "./arbitraries.ts";

export const TLS: TlsInfo = { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" };

// ---------------------------------------------------------------------------------------------
// Generators

const domain = fc.oneof(
  fc.constantFrom(
    "example.test",
    "EXAMPLE.test",
    "example.org",
    "broken.test",
    "client.test",
    "[192.0.2.1]",
    "[IPv6:2001:db8::1]",
    "[999.0.0.1]",
    "[IPv6:]",
    "-bad.test",
    "a..b",
    "a.b.",
    "xn--bcher-kva.test",
    utf8("bücher.test"),
    "x".repeat(70) + ".test",
  ),
  fc.domain(),
  junk(10),
);

const localPart = fc.oneof(
  fc.constantFrom(
    "alice",
    "bob",
    "postmaster",
    "alias",
    "nobody",
    "Alice",
    '"a b"',
    '"a\\"b"',
    '""',
    '"al\\ice"',
    ".a",
    "a.",
    "a..b",
    utf8("jörg"),
    "a".repeat(65),
  ),
  fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~.-]{0,70}$/),
  junk(8),
);

/** Reverse- and forward-paths (RFC 5321 §4.1.2), valid and broken. */
export const path = fc.oneof(
  { arbitrary: fc.tuple(localPart, domain).map(([l, d]) => `<${l}@${d}>`), weight: 6 },
  fc.tuple(localPart, domain).map(([l, d]) => `<@a.test,@b.test:${l}@${d}>`),
  fc.constantFrom(
    "<>",
    "<postmaster>",
    "<PostMaster>",
    "alice@example.test",
    "<alice@example.test",
    "<@bad>",
    "< >",
    "<",
    "",
  ),
);

const mailParam = fc.oneof(
  fc.nat().map((n) => `SIZE=${n}`),
  fc.constantFrom(
    "SIZE=",
    "SIZE=99999999999999999",
    "BODY=8BITMIME",
    "BODY=7bit",
    "BODY=BINARYMIME",
    "BODY=x",
    "SMTPUTF8",
    "SMTPUTF8=yes",
    "RET=FULL",
    "RET=hdrs",
    "RET=",
    "ENVID=abc+2B1",
    "ENVID=+zz",
    "ENVID=" + "e".repeat(120),
    "AUTH=<>",
    "AUTH=alice@example.test",
    "X-FOO=bar",
    "=",
    "SIZE=1 SIZE=2",
  ),
  fc.tuple(junk(5), junk(5)).map(([k, v]) => `${k}=${v}`),
);

const rcptParam = fc.oneof(
  fc.constantFrom(
    "NOTIFY=NEVER",
    "NOTIFY=SUCCESS,FAILURE",
    "NOTIFY=delay",
    "NOTIFY=DELAY,NEVER",
    "NOTIFY=",
    "ORCPT=rfc822;a+40b.test",
    "ORCPT=;x",
    "ORCPT=rfc822;+4",
    "ORCPT",
    "X=1",
  ),
  junk(6),
);

const params = (param: fc.Arbitrary<string>) =>
  fc.array(fc.tuple(space, param), { maxLength: 3 }).map((ps) => ps.map(([s, p]) => s + p).join(""));

const b64 = (text: string) => btoa(text);

/** Base64 SASL responses (RFC 4954): right and wrong credentials, cancels, junk. */
export const saslResponse = fc.oneof(
  fc.constantFrom(
    b64("\0alice@example.test\0secret"),
    b64("\0alice@example.test\0wrong"),
    b64("bob\0alice@example.test\0secret"),
    b64("alice@example.test"),
    b64("secret"),
    "*",
    "=",
    "",
    "!!!",
    "AAAA",
    "QUIT",
  ),
  junk(12).map((j) => b64(j)),
  junk(12),
);

const verbs = [
  "EHLO",
  "HELO",
  "MAIL",
  "RCPT",
  "DATA",
  "RSET",
  "NOOP",
  "QUIT",
  "STARTTLS",
  "BDAT",
  "HELP",
  "VRFY",
  "EXPN",
  "AUTH",
];

/** One command line without its line end, mostly well-formed. */
export const commandLine: fc.Arbitrary<string> = fc.oneof(
  {
    arbitrary: fc.tuple(fc.constantFrom("EHLO", "HELO"), space, domain).chain(([v, s, d]) =>
      anyCase(v).map((w) => w + s + d)
    ),
    weight: 3,
  },
  {
    arbitrary: fc.tuple(
      anyCase("MAIL"),
      space,
      fc.constantFrom("FROM:", "FROM: ", "from:", "FROM", "TO:"),
      path,
      params(mailParam),
    )
      .map((parts) => parts.join("")),
    weight: 5,
  },
  {
    arbitrary: fc.tuple(anyCase("RCPT"), space, fc.constantFrom("TO:", "TO: ", "to:", "FROM:"), path, params(rcptParam))
      .map((parts) => parts.join("")),
    weight: 5,
  },
  fc.tuple(
    fc.constantFrom("DATA", "RSET", "NOOP", "STARTTLS", "HELP", "VRFY", "EXPN"),
    fc.option(fc.tuple(space, junk(10))),
  )
    .chain(([v, arg]) => anyCase(v).map((w) => w + (arg ? arg.join("") : ""))),
  {
    arbitrary: fc.tuple(
      anyCase("AUTH"),
      space,
      fc.constantFrom("PLAIN", "LOGIN", "plain", "CRAM-MD5", "X".repeat(21)),
      fc.option(fc.tuple(space, saslResponse)),
    ).map(([a, s, m, r]) => a + s + m + (r ? r.join("") : "")),
    weight: 2,
  },
  { arbitrary: fc.constant("QUIT"), weight: 1 },
  { arbitrary: saslResponse, weight: 1 },
  fc.tuple(fc.constantFrom(...verbs), junk(20)).map(([v, j]) => v + j),
  junk(40),
);

/** DATA content lines: dots, dot-stuffing, bare CR and LF, the smuggling forms. */
const dataBody = fc.array(
  fc.tuple(
    fc.oneof(junk(30), fc.constantFrom(".", "..", ".x", "Subject: hi", "", "\r", "x".repeat(1200))),
    fc.constantFrom("\r\n", "\r\n", "\r\n", "\n", "\r"),
  ).map(([l, e]) => l + e),
  { maxLength: 8 },
).map((ls) => ls.join(""));

const dataSegment = fc.tuple(
  anyCase("DATA"),
  lineEnd,
  dataBody,
  fc.constantFrom(".\r\n", ".\r\n", "\n.\r\n", ".\n", "\r\n.\n", ""),
)
  .map((parts) => parts.join(""));

/** BDAT with its chunk (RFC 3030); the announced size is sometimes wrong. */
const bdatSegment = fc.tuple(
  junk(80),
  fc.option(fc.nat(120)),
  fc.boolean(),
  fc.constantFrom(" LAST", " last", "", " LAST ", " LASTX"),
)
  .map(([chunk, wrongSize, last, word]) => `BDAT ${wrongSize ?? chunk.length}${last ? word : ""}\r\n${chunk}`);

/** A transaction's usual opening, so that deeper states are reached often. */
const opening = fc.constantFrom(
  "EHLO client.test\r\n",
  "EHLO client.test\r\nMAIL FROM:<sender@example.org>\r\n",
  "EHLO client.test\r\nMAIL FROM:<sender@example.org>\r\nRCPT TO:<alice@example.test>\r\n",
  `EHLO client.test\r\nAUTH PLAIN ${
    b64("\0alice@example.test\0secret")
  }\r\nMAIL FROM:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n`,
);

/** A complete, valid transaction (RFC 5321 §3.3) with generated content. */
const cleanBody = fc.array(
  fc.oneof(junk(30), fc.constantFrom(".", "..", ".x")).map((l) => `${l.replace(/[\r\n]/g, "")}\r\n`),
  { maxLength: 6 },
)
  .map((ls) => ls.join(""));
const transaction = fc.tuple(
  fc.constantFrom("<sender@example.org>", "<>", "<alice@example.test>"),
  fc.constantFrom("alice", "bob", "carol"),
  cleanBody,
)
  .map(([from, to, body]) => `MAIL FROM:${from}\r\nRCPT TO:<${to}@example.test>\r\nDATA\r\n${body}.\r\n`);

/** A whole client stream as a binary string: an opening, then near-valid commands, DATA, BDAT. */
export const clientStream: fc.Arbitrary<string> = fc.tuple(
  fc.option(opening, { freq: 3 }),
  fc.array(
    fc.oneof(
      { arbitrary: fc.tuple(nearValid(commandLine), lineEnd).map(([l, e]) => l + e), weight: 8 },
      { arbitrary: dataSegment, weight: 2 },
      { arbitrary: transaction, weight: 2 },
      { arbitrary: bdatSegment, weight: 2 },
      { arbitrary: opening, weight: 1 },
    ),
    { maxLength: 12 },
  ),
).map(([first, segments]) => (first ?? "") + segments.join(""));

export interface WireOptions {
  session: SessionOptions;
  /** The command line limit of src/smtp/server.ts (RFC 5321 §4.5.3.1.4). */
  maxLineLength: number;
}

export const wireOptions: fc.Arbitrary<WireOptions> = fc.record({
  session: fc.record({
    role: fc.constantFrom("mx" as const, "submission" as const),
    tls: fc.constantFrom(null, TLS),
    allowPlaintextAuth: fc.boolean(),
    maxErrors: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 5 }), weight: 1 }, {
      arbitrary: fc.constant(100),
      weight: 3,
    }),
    maxRecipients: fc.integer({ min: 1, max: 4 }),
    // config/schema.ts: limits.messageSize is a positive integer.
    maxMessageSize: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 200 }), weight: 1 }, {
      arbitrary: fc.constant(100_000),
      weight: 3,
    }),
    maxCommands: fc.oneof({ arbitrary: fc.integer({ min: 1, max: 20 }), weight: 1 }, {
      arbitrary: fc.constant(1000),
      weight: 3,
    }),
    maxAuthFailures: fc.integer({ min: 1, max: 4 }),
  }).map((o) => ({ ...DEFAULTS, ...o })),
  maxLineLength: fc.constantFrom(64, 512, 512, 1000),
});

// ---------------------------------------------------------------------------------------------
// Driver

type Mode =
  | { kind: "command" }
  | { kind: "data"; decoder: DataDecoder }
  | { kind: "chunk"; left: number; discard: boolean }
  | { kind: "starttls" }
  | { kind: "closed" };

/** One session step as recorded: its replies and the action that followed. */
export interface Recorded {
  replies: Reply[];
  action: Step["action"]["kind"];
}

export class SmtpWire {
  readonly framer = new LineFramer();
  readonly backend = new FakeBackend();
  readonly session: SmtpSession;
  readonly steps: Recorded[] = [];
  mode: Mode = { kind: "command" };

  constructor(readonly options: WireOptions) {
    this.session = new SmtpSession(options.session, this.backend);
  }

  /** Every reply so far, in order. */
  get replies(): Reply[] {
    return this.steps.flatMap((s) => s.replies);
  }

  /** Bytes from the client; processes everything that can be processed. */
  async push(chunk: Uint8Array | string): Promise<void> {
    this.framer.push(typeof chunk === "string" ? wire(chunk) : chunk);
    const budget = new StepBudget(4 * this.framer.length + 64);
    for (;;) {
      budget.spend("the SMTP session");
      if (!(await this.#advance())) return;
    }
  }

  /** What src/smtp/server.ts does once the handshake is done: pipelined plaintext is dropped. */
  tlsHandshakeDone(): void {
    this.framer.clear();
    this.session.tlsStarted(TLS);
    this.mode = { kind: "command" };
  }

  /** Carries out one read; false when more input is needed or the session is over. */
  async #advance(): Promise<boolean> {
    const mode = this.mode;
    switch (mode.kind) {
      case "command": {
        const line = this.framer.readLine(this.options.maxLineLength);
        if (!line) return false;
        this.#carry(await this.session.commandLine(line));
        return true;
      }
      case "data": {
        // As the server does: a DATA line is bounded only by the message size.
        const line = this.framer.readLine(this.options.session.maxMessageSize);
        if (!line) return false;
        if (mode.decoder.push(line)) this.#carry(await this.session.dataEnded(mode.decoder));
        return true;
      }
      case "chunk": {
        if (mode.discard) {
          mode.left -= this.framer.skip(mode.left);
          if (mode.left > 0) return false;
          this.#carry(await this.session.chunkReceived(null));
          return true;
        }
        const bytes = this.framer.readBytes(mode.left);
        if (!bytes) return false;
        this.#carry(await this.session.chunkReceived(bytes));
        return true;
      }
      case "starttls":
      case "closed":
        return false;
    }
  }

  #carry(step: Step): void {
    this.steps.push({ replies: step.replies, action: step.action.kind });
    const action = step.action;
    switch (action.kind) {
      case "read-command":
        this.mode = { kind: "command" };
        break;
      case "read-data":
        this.mode = { kind: "data", decoder: new DataDecoder(this.options.session.maxMessageSize) };
        break;
      case "read-chunk":
        this.mode = { kind: "chunk", left: action.size, discard: action.discard };
        break;
      case "starttls":
        this.mode = { kind: "starttls" };
        break;
      case "close":
        this.mode = { kind: "closed" };
        break;
    }
  }
}
