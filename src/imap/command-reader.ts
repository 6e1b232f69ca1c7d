/**
 * Assembles one IMAP command from lines and literals (RFC 9051 §4.3, LITERAL+ / LITERAL-
 * RFC 7888, binary literals RFC 3516). Pure: the server feeds it lines and literal bytes.
 *
 * The assembled command is its text with each literal replaced by a NUL placeholder (NUL can
 * never appear in command text, RFC 9051 §9 "CHAR8" excludes it) plus the literal payloads in
 * order, so the parser works on one string and takes a payload where it meets a placeholder.
 */

export const LITERAL_PLACEHOLDER = "\0";

export interface RawCommand {
  text: string;
  literals: Uint8Array[];
}

export type ReaderStep =
  /** Read `size` bytes and call `pushLiteral`; send "+ ..." first when `synchronizing`. */
  | { kind: "literal"; size: number; synchronizing: boolean }
  | { kind: "command"; command: RawCommand }
  /**
   * The command cannot be taken: answer `tag BAD`/`NO [TOOBIG]` (or `* BAD` without a tag).
   * `discard` bytes of a non-synchronising literal are already on their way and must be
   * skipped, then the rest of that line read and dropped, to stay in sync (RFC 7888 §4).
   */
  | { kind: "error"; tag: string | null; message: string; tooBig: boolean; discard: number };

export interface ReaderOptions {
  /** Largest literal accepted (APPEND's message size limit). */
  maxLiteralSize: number;
  /** Largest command, text and literals together. */
  maxCommandSize: number;
}

/**
 * Before authentication only a user name, a password or a SASL response can come in a literal,
 * so the limits are small: a client that has not logged in cannot make the server hold more
 * than this (issue 18; Dovecot refuses large pre-login literals the same way).
 */
export const PRE_LOGIN_LIMITS: ReaderOptions = { maxLiteralSize: 8192, maxCommandSize: 16384 };

/** `{123}`, `{123+}`, `{123-}` or `~{123}` at the end of a line. */
const LITERAL_AT_END = /(~?)\{(\d{1,10})([+-]?)\}$/;
/** RFC 7888 §5: LITERAL- allows non-synchronising literals of at most 4096 octets. */
const LITERAL_MINUS_MAX = 4096;

export class CommandReader {
  #options: ReaderOptions;
  #text = "";
  #literals: Uint8Array[] = [];
  #size = 0;
  /** Set after an error in the middle of a command: the rest of its lines are dropped. */
  #skipping = false;
  /** The literal announced last is binary (`~{n}`, RFC 3516): it may carry NUL. */
  #binary = false;
  /** A literal of this command carried NUL without being binary. */
  #nul = false;

  constructor(options: ReaderOptions) {
    this.#options = options;
  }

  /** Changes the limits for the commands that follow (raised once the client has logged in). */
  setLimits(options: ReaderOptions): void {
    this.#options = options;
  }

  /** True while a command is partly read (a literal or its continuation line is expected). */
  get inCommand(): boolean {
    return this.#text !== "" || this.#literals.length > 0;
  }

  pushLine(line: Uint8Array): ReaderStep | null {
    const text = new TextDecoder().decode(line);
    if (this.#skipping) {
      // Still inside a refused command: drop this line, and its literal if it announces one.
      const m = LITERAL_AT_END.exec(text);
      if (m && m[3] !== "") return { kind: "error", tag: null, message: "", tooBig: false, discard: Number(m[2]) };
      if (!m) this.#skipping = false;
      return null;
    }
    this.#text += text;
    this.#size += line.length;
    const m = LITERAL_AT_END.exec(text);
    if (line.includes(0)) {
      // RFC 9051 §9: CHAR8 excludes NUL, and here NUL marks where a literal was.
      const tag = this.#tag();
      this.#reset();
      const nonSync = m !== null && m[3] !== "";
      this.#skipping = nonSync;
      return {
        kind: "error",
        tag,
        message: "NUL is not allowed in a command line",
        tooBig: false,
        discard: nonSync ? Number(m[2]) : 0,
      };
    }
    if (!m) return this.#finish();

    const size = Number(m[2]);
    const nonSync = m[3] === "+" || m[3] === "-";
    this.#text = this.#text.slice(0, this.#text.length - m[0].length);
    const tooBig = size > this.#options.maxLiteralSize || this.#size + size > this.#options.maxCommandSize;
    if (tooBig || (m[3] === "-" && size > LITERAL_MINUS_MAX)) {
      const tag = this.#tag();
      this.#reset();
      // A non-synchronising literal is coming regardless; a synchronising one is never sent.
      this.#skipping = nonSync;
      return {
        kind: "error",
        tag,
        message: tooBig ? "Literal too large" : "LITERAL- allows at most 4096 octets; use a synchronising literal",
        tooBig,
        discard: nonSync ? size : 0,
      };
    }
    this.#binary = m[1] === "~";
    return { kind: "literal", size, synchronizing: !nonSync };
  }

  pushLiteral(bytes: Uint8Array): null {
    // RFC 9051 §4.3: a literal is CHAR8, NUL excluded; only a binary literal may carry it.
    if (!this.#binary && bytes.includes(0)) this.#nul = true;
    this.#literals.push(bytes);
    this.#text += LITERAL_PLACEHOLDER;
    this.#size += bytes.length;
    return null;
  }

  /** Forgets a partly read command (after a line too long to read). */
  abandon(): string | null {
    const tag = this.#tag();
    this.#reset();
    return tag;
  }

  #finish(): ReaderStep {
    if (this.#nul) {
      const tag = this.#tag();
      this.#reset();
      return {
        kind: "error",
        tag,
        message: "NUL is not allowed in a literal; send it in a binary literal ~{n} (RFC 3516)",
        tooBig: false,
        discard: 0,
      };
    }
    const command = { text: this.#text, literals: this.#literals };
    this.#reset();
    return { kind: "command", command };
  }

  #tag(): string | null {
    const m = /^([^\s(){%*"\\\]\0]+) /.exec(this.#text);
    return m ? m[1]! : null;
  }

  #reset(): void {
    this.#text = "";
    this.#literals = [];
    this.#size = 0;
    this.#binary = false;
    this.#nul = false;
  }
}
