/**
 * The terminals of the IMAP grammar (RFC 9051 §9) over an assembled command: atoms, numbers,
 * quoted strings with escapes, literals, astrings, nstrings and parenthesised lists.
 * A mismatch throws `ImapSyntaxError` naming what was expected; the parser turns it into BAD.
 */
import { LITERAL_PLACEHOLDER, type RawCommand } from "./command-reader.ts";

export class ImapSyntaxError extends Error {}

/** RFC 9051 §9: atom-specials are "(" ")" "{" SP CTL list-wildcards quoted-specials resp-specials. */
const ATOM_CHAR = /[^(){ \x00-\x1f\x7f%*"\\\]]/;
/** ASTRING-CHAR = ATOM-CHAR / resp-specials ("]"). */
const ASTRING_CHAR = /[^(){ \x00-\x1f\x7f%*"\\]/;

export class Cursor {
  #text: string;
  #literals: Uint8Array[];
  #literal = 0;
  pos = 0;

  constructor(raw: RawCommand) {
    this.#text = raw.text;
    this.#literals = raw.literals;
  }

  get atEnd(): boolean {
    return this.pos >= this.#text.length;
  }

  peek(length = 1): string {
    return this.#text.slice(this.pos, this.pos + length);
  }

  /** The text from `start` up to the current position. */
  slice(start: number): string {
    return this.#text.slice(start, this.pos);
  }

  /** Case-insensitive look-ahead for a keyword. */
  peekWord(word: string): boolean {
    return this.#text.slice(this.pos, this.pos + word.length).toUpperCase() === word.toUpperCase();
  }

  fail(expected: string): never {
    const near = this.#text.slice(this.pos, this.pos + 20).replaceAll(LITERAL_PLACEHOLDER, "{literal}");
    // Both parts may quote the client, and a response line may not hold CR, LF or other
    // controls (RFC 9051 §9 TEXT-CHAR).
    throw new ImapSyntaxError(`Expected ${expected} at "${near}"`.replace(/[\x00-\x1f\x7f]/g, "?"));
  }

  expect(text: string): void {
    if (!this.peekWord(text)) this.fail(JSON.stringify(text));
    this.pos += text.length;
  }

  /** Consumes `text` if it is next; tells whether it was. */
  accept(text: string): boolean {
    if (!this.peekWord(text)) return false;
    this.pos += text.length;
    return true;
  }

  sp(): void {
    if (this.#text[this.pos] !== " ") this.fail("a space");
    this.pos++;
  }

  end(): void {
    if (!this.atEnd) this.fail("the end of the command");
  }

  #run(chars: RegExp, what: string): string {
    const start = this.pos;
    while (this.pos < this.#text.length && chars.test(this.#text[this.pos]!)) this.pos++;
    if (this.pos === start) this.fail(what);
    return this.#text.slice(start, this.pos);
  }

  atom(): string {
    return this.#run(ATOM_CHAR, "an atom");
  }

  /** A run of characters that are not SP, parentheses or brackets (for fetch/search keywords). */
  keyword(): string {
    return this.#run(/[^ ()[\]<\0]/, "a keyword").toUpperCase();
  }

  number(): number {
    const digits = this.#run(/\d/, "a number");
    const n = Number(digits);
    // RFC 9051 §9: number is 32-bit unsigned (number64 only where the grammar says so).
    if (digits.length > 10 || n > 0xffffffff) this.fail("a 32-bit number");
    return n;
  }

  nzNumber(): number {
    const n = this.number();
    if (n === 0) this.fail("a non-zero number");
    return n;
  }

  /**
   * A 63-bit number (MODSEQ, RFC 7162 §7). Postern's own MODSEQs are change-log ids, far below
   * 2^53; a larger value from a client only needs to compare as larger, which a double does.
   */
  number64(): number {
    const digits = this.#run(/\d/, "a number");
    if (digits.length > 19 || BigInt(digits) > 2n ** 63n - 1n) this.fail("a 63-bit number");
    return Number(digits);
  }

  /** flag = "\" atom (system flag) / atom (keyword), RFC 9051 §9. */
  /**
   * A flag. Flag names are case-insensitive (RFC 9051 §2.3.2): a system flag comes back in its
   * canonical spelling (`\\seen` is `\\Seen`), so every later comparison of it is exact.
   */
  flag(): string {
    if (!this.accept("\\")) return this.atom();
    const name = `\\${this.atom()}`;
    return SYSTEM_FLAGS.get(name.toLowerCase()) ?? name;
  }

  quoted(): string {
    if (this.#text[this.pos] !== '"') this.fail("a quoted string");
    let out = "";
    for (this.pos++;; this.pos++) {
      const c = this.#text[this.pos];
      if (c === undefined || c === "\r" || c === "\n" || c === LITERAL_PLACEHOLDER) this.fail("a closing quote");
      if (c === '"') break;
      if (c === "\\") {
        const next = this.#text[++this.pos];
        if (next !== '"' && next !== "\\") this.fail('\\" or \\\\ after a backslash');
        out += next;
      } else out += c;
    }
    this.pos++;
    return out;
  }

  literalBytes(): Uint8Array {
    if (this.#text[this.pos] !== LITERAL_PLACEHOLDER) this.fail("a literal");
    this.pos++;
    return this.#literals[this.#literal++]!;
  }

  isLiteral(): boolean {
    return this.#text[this.pos] === LITERAL_PLACEHOLDER;
  }

  /** string = quoted / literal */
  string(): string {
    return this.isLiteral() ? new TextDecoder().decode(this.literalBytes()) : this.quoted();
  }

  astring(): string {
    const c = this.#text[this.pos];
    if (c === '"' || c === LITERAL_PLACEHOLDER) return this.string();
    return this.#run(ASTRING_CHAR, "an atom or string");
  }

  /** nstring = string / NIL */
  nstring(): string | null {
    if (this.accept("NIL")) return null;
    return this.string();
  }

  /** "(" item *(SP item) ")"; `allowEmpty` for lists like flag lists that may be "()". */
  list<T>(item: () => T, allowEmpty = false): T[] {
    this.expect("(");
    const out: T[] = [];
    if (this.accept(")")) {
      if (!allowEmpty) this.fail("a list item");
      return out;
    }
    for (;;) {
      out.push(item());
      if (this.accept(")")) return out;
      this.sp();
    }
  }
}

/** System flags in their canonical spelling (RFC 9051 §2.3.2; \\Recent only ever searched for). */
const SYSTEM_FLAGS = new Map(
  ["\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft", "\\Recent"].map((f) => [f.toLowerCase(), f]),
);
