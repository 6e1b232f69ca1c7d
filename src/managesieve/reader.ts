/**
 * Reads ManageSieve commands (RFC 5804 §1.2, §4): a command line whose arguments are atoms, numbers, quoted strings
 * and literals. Pure: the server feeds it lines and literal bytes.
 *
 * A client literal is `{n+}` (RFC 5804 §4 literal-c2s); `{n}` is accepted too, as other servers do. ManageSieve has
 * no continuation request, so the bytes follow at once either way: a literal refused for its size is still read
 * (and dropped) to stay in sync, except before login, where the server closes instead.
 */

/** A NUL stands for a literal in the assembled text: NUL is allowed neither in a line nor in a quoted string. */
const LITERAL_PLACEHOLDER = "\0";

export interface RawCommand {
  text: string;
  literals: Uint8Array[];
}

export type ReaderStep =
  /** Read `size` bytes and pass them to `pushLiteral`. */
  | { kind: "literal"; size: number }
  | { kind: "command"; command: RawCommand }
  /** Refuse the command; `discard` literal bytes are on their way and must be skipped. */
  | { kind: "error"; message: string; tooBig: boolean; discard: number };

export interface ReaderLimits {
  maxLiteralSize: number;
  /** The text and literals of one command together. */
  maxCommandSize: number;
}

/** Before login only a SASL mechanism and responses come in: a user who has not logged in cannot make us hold more. */
export const PRE_LOGIN_LIMITS: ReaderLimits = { maxLiteralSize: 8192, maxCommandSize: 16384 };

const LITERAL_AT_END = /\{(\d{1,10})(\+?)\}$/;

export class CommandReader {
  #limits: ReaderLimits;
  #text = "";
  #literals: Uint8Array[] = [];
  #size = 0;
  /** Inside a refused command: its remaining lines (and literals) are dropped. */
  #skipping = false;

  constructor(limits: ReaderLimits) {
    this.#limits = limits;
  }

  setLimits(limits: ReaderLimits): void {
    this.#limits = limits;
  }

  pushLine(line: Uint8Array): ReaderStep | null {
    const text = new TextDecoder().decode(line);
    const m = LITERAL_AT_END.exec(text);
    if (this.#skipping) {
      if (m) return { kind: "error", message: "", tooBig: false, discard: Number(m[1]) };
      this.#skipping = false;
      return null;
    }
    if (line.includes(0)) {
      this.#reset();
      this.#skipping = m !== null;
      return {
        kind: "error",
        message: "NUL is not allowed in a command",
        tooBig: false,
        discard: m ? Number(m[1]) : 0,
      };
    }
    this.#text += text;
    this.#size += line.length;
    if (!m) {
      const command = { text: this.#text, literals: this.#literals };
      this.#reset();
      return { kind: "command", command };
    }
    const size = Number(m[1]);
    this.#text = this.#text.slice(0, this.#text.length - m[0].length);
    if (size > this.#limits.maxLiteralSize || this.#size + size > this.#limits.maxCommandSize) {
      this.#reset();
      this.#skipping = true;
      return { kind: "error", message: "Literal too large", tooBig: true, discard: size };
    }
    return { kind: "literal", size };
  }

  pushLiteral(bytes: Uint8Array): void {
    this.#literals.push(bytes);
    this.#text += LITERAL_PLACEHOLDER;
    this.#size += bytes.length;
  }

  /** Forgets a partly read command (after a line too long to read). */
  abandon(): void {
    this.#reset();
    this.#skipping = false;
  }

  #reset(): void {
    this.#text = "";
    this.#literals = [];
    this.#size = 0;
  }
}

export type Argument =
  /** A bare word: a command name or a number. */
  | { kind: "atom"; text: string }
  /** A quoted string or a literal, as sent (UTF-8 is checked where it matters). */
  | { kind: "string"; bytes: Uint8Array };

/** RFC 5804 §4: at most 1024 octets between the quotes (errata 2655). */
const MAX_QUOTED = 1024;

/** Splits a command into its arguments; an error message when it is not ManageSieve syntax. */
export function parseArguments(command: RawCommand): Argument[] | string {
  const { text } = command;
  const out: Argument[] = [];
  const enc = new TextEncoder();
  let literal = 0;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === " ") {
      i++;
      continue;
    }
    if (c === LITERAL_PLACEHOLDER) {
      out.push({ kind: "string", bytes: command.literals[literal++]! });
      i++;
    } else if (c === '"') {
      let value = "";
      for (i++;; i++) {
        if (i >= text.length) return "Unterminated quoted string";
        const q = text[i]!;
        if (q === '"') break;
        if (q === LITERAL_PLACEHOLDER) return "A literal cannot start inside a quoted string";
        if (q === "\\") {
          // QUOTED-SPECIALS: only \" and \\ may be escaped.
          const next = text[++i];
          if (next !== '"' && next !== "\\") return 'Only \\" and \\\\ may be escaped in a quoted string';
          value += next;
        } else value += q;
      }
      i++;
      const bytes = enc.encode(value);
      if (bytes.length > MAX_QUOTED) return "Quoted strings are limited to 1024 octets; send a literal";
      out.push({ kind: "string", bytes });
    } else {
      const end = text.slice(i).search(/[ "\0]/);
      const word = end === -1 ? text.slice(i) : text.slice(i, i + end);
      if (!/^[A-Za-z0-9]+$/.test(word)) return `Unexpected ${JSON.stringify(word.slice(0, 20))}`;
      out.push({ kind: "atom", text: word });
      i += word.length;
    }
    if (i < text.length && text[i] !== " ") return "Arguments are separated by a space";
  }
  return out;
}
