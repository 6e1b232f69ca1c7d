/**
 * DATA content: dot-unstuffing (RFC 5321 §4.5.2) and the end-of-data rule (§4.1.1.4), over
 * lines already framed on LF by `net/`. The size limit is enforced while reading: past it the
 * bytes are dropped but the content is still consumed to its end. The decoded content goes to a
 * sink as it is decoded (the server's: the transaction's spool), or gathers here until taken with
 * `take`, so a long message is never held whole. The inverse, for sending, is `dotStuff` in `mime/dot-stuffing.ts` (shared
 * with POP3).
 */
import type { LinePart, LineResult } from "../connection.ts";

const CRLF = Uint8Array.of(0x0d, 0x0a);
const DOT = 0x2e;
const EMPTY = new Uint8Array(0);

export class DataDecoder {
  /** Decoded bytes not yet taken, copied out of the lines (which may be views of the read buffer). */
  #out = EMPTY;
  #pending = 0;
  #size = 0;
  #exceeded = false;
  #bareLineFeeds = 0;
  /** Whether the previous line ended with CRLF (true at the start: DATA's own CRLF). */
  #afterCrlf = true;
  /** False while inside a line that came in parts: its continuation is no line start. */
  #atLineStart = true;

  /**
   * With `sink`, decoded bytes go straight to it (a view of the line, to be copied before the next `push`) instead
   * of gathering here: the server hands them to the transaction's spool without a buffer of its own per message.
   */
  constructor(private readonly maxSize: number, private readonly sink?: (bytes: Uint8Array) => void) {}

  get size(): number {
    return this.#size;
  }
  get exceeded(): boolean {
    return this.#exceeded;
  }
  /** Lines that ended with a bare LF (refused by the session: RFC 5321 §2.3.8). */
  get bareLineFeeds(): number {
    return this.#bareLineFeeds;
  }
  /** Decoded bytes not yet taken. */
  get pending(): number {
    return this.#pending;
  }

  /** Feeds one line, or a part of a long one; true when it was the terminating ".". */
  push(line: LineResult | LinePart): boolean {
    if (line.kind === "too-long") {
      // Its bytes are gone and the message is too big, but how it ended still decides whether
      // a "." on the next line ends the data (the smuggling defence must not go stale).
      if (!line.crlf) this.#bareLineFeeds++;
      this.#afterCrlf = line.crlf;
      this.#atLineStart = true;
      this.#size += line.length + 2;
      this.#exceeded = true;
      return false;
    }
    const { bytes } = line;
    const lineStart = this.#atLineStart && this.#afterCrlf;
    // Only <CRLF>.<CRLF> ends the data: "." after a bare LF, or followed by one, is content
    // (the SMTP smuggling defence).
    if (line.kind === "line" && lineStart && bytes.length === 1 && bytes[0] === DOT && line.crlf) return true;
    const content = bytes.length > 0 && bytes[0] === DOT && lineStart ? bytes.subarray(1) : bytes;
    if (line.kind === "part") {
      this.#atLineStart = false;
      this.#add(content, content.length);
      return false;
    }
    if (!line.crlf) this.#bareLineFeeds++;
    this.#afterCrlf = line.crlf;
    this.#atLineStart = true;
    this.#add(content, content.length + 2);
    if (!this.#exceeded) this.#copy(CRLF);
    return false;
  }

  #add(content: Uint8Array, size: number): void {
    this.#size += size;
    if (this.#size > this.maxSize) this.#exceeded = true;
    if (!this.#exceeded) this.#copy(content);
  }

  #copy(bytes: Uint8Array): void {
    if (this.sink) return this.sink(bytes);
    if (this.#pending + bytes.length > this.#out.length) {
      let size = Math.max(this.#out.length * 2, 16 * 1024);
      while (size < this.#pending + bytes.length) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.#out.subarray(0, this.#pending));
      this.#out = next;
    }
    this.#out.set(bytes, this.#pending);
    this.#pending += bytes.length;
  }

  /**
   * The decoded bytes gathered since the last `take`, with CRLF line endings and dot-stuffing removed: a view,
   * valid until the next `push` (the spool copies it), so no garbage is made per block.
   */
  take(): Uint8Array {
    const bytes = this.#out.subarray(0, this.#pending);
    this.#pending = 0;
    return bytes;
  }

  /** The content not yet taken (a copy; the decoder keeps it). */
  result(): Uint8Array {
    return this.#out.slice(0, this.#pending);
  }
}
