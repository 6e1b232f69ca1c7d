/**
 * Framing of a byte stream into lines and exact byte counts.
 *
 * Pure: chunks go in with `push`, framed input comes out of `readLine`/`readBytes`, and
 * `undefined` means "need more data". A line longer than the limit is dropped byte by byte
 * as it arrives (never buffered whole) and reported once its LF is seen, so a hostile peer
 * cannot grow the buffer and the stream stays in sync for the next command.
 */
import type { LinePart, LineResult } from "../connection.ts";

const LF = 0x0a;
const CR = 0x0d;

export class LineFramer {
  #buf = new Uint8Array(4096);
  #start = 0;
  #end = 0;
  /** Where the search for the next LF resumes, so a line arriving in many chunks is scanned once. */
  #scanned = 0;
  /** Bytes already dropped from the current over-long line; -1 when not inside one. */
  #dropped = -1;

  /** Bytes buffered and not yet read. */
  get length(): number {
    return this.#end - this.#start;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const live = this.#end - this.#start;
    if (this.#dropped >= 0 && live <= 1 && !chunk.includes(LF)) {
      // Still inside an over-long line: count the chunk instead of buffering it, keeping only
      // its last byte in case it is the CR of CRLF. Memory stays flat however long the line.
      this.#dropped += live + chunk.length - 1;
      this.#buf[0] = chunk[chunk.length - 1]!;
      this.#start = this.#scanned = 0;
      this.#end = 1;
      return;
    }
    if (this.#end + chunk.length > this.#buf.length) {
      if (live + chunk.length <= this.#buf.length && this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
      } else {
        let size = this.#buf.length * 2;
        while (size < live + chunk.length) size *= 2;
        const next = new Uint8Array(size);
        next.set(this.#buf.subarray(this.#start, this.#end));
        this.#buf = next;
      }
      this.#scanned -= this.#start;
      this.#start = 0;
      this.#end = live;
    }
    this.#buf.set(chunk, this.#end);
    this.#end += chunk.length;
  }

  /** Drops everything buffered (STARTTLS: bytes sent before the handshake must not be used). */
  clear(): void {
    this.#start = this.#end = this.#scanned = 0;
    this.#dropped = -1;
  }

  /** True when a whole line is buffered. */
  hasLine(): boolean {
    return this.#findLf(Math.max(this.#scanned, this.#start)) !== -1;
  }

  /**
   * Where the next LF at or after `from` is, or -1 if none is buffered. Searched in place: a view per search
   * was a tenth of the SMTP layer's time (an object each, several per line).
   */
  #findLf(from: number): number {
    const at = this.#buf.indexOf(LF, from);
    return at < this.#end ? at : -1;
  }

  /**
   * The next line, without its line ending, if one is complete. `maxLength` counts the bytes
   * before CRLF; a longer line yields `{ kind: "too-long" }` once its end has arrived.
   */
  readLine(maxLength: number): LineResult | undefined {
    return this.#line(this.#findLf(Math.max(this.#scanned, this.#start)), maxLength);
  }

  /**
   * Like `readLine`, but a line longer than `maxLength` comes out in parts of at most `maxLength` bytes
   * (`{ kind: "part" }`, its end still to come) instead of being dropped: message data has no line limit a
   * server may enforce by discarding, yet must not be buffered whole (SMTP DATA).
   *
   * The bytes are a view of the buffer, not a copy (a message is millions of lines): they are valid only until
   * the next `push`, so the caller copies what it keeps before giving control back to the event loop.
   */
  readLineOrPart(maxLength: number): LineResult | LinePart | undefined {
    const lf = this.#findLf(Math.max(this.#scanned, this.#start));
    let contentEnd = lf === -1 ? this.#end : lf;
    // A CR before the LF, or last in the buffer (its LF may be next), belongs to the line's end.
    if (contentEnd > this.#start && this.#buf[contentEnd - 1] === CR) contentEnd--;
    if (contentEnd - this.#start > maxLength) {
      const bytes = this.#buf.subarray(this.#start, this.#start + maxLength);
      this.#consume(maxLength);
      return { kind: "part", bytes };
    }
    if (lf === -1) {
      this.#scanned = this.#end;
      return undefined;
    }
    return this.#line(lf, maxLength, true);
  }

  /** The line ending at the LF at `lf` (-1: none buffered yet). */
  #line(lf: number, maxLength: number, view = false): LineResult | undefined {
    if (lf === -1) {
      this.#scanned = this.#end;
      // Past the limit with no LF yet: drop what we have, keeping the last byte in case it is the CR of CRLF.
      if (this.#end - this.#start > maxLength + 1) {
        const drop = this.#end - this.#start - 1;
        this.#dropped = Math.max(this.#dropped, 0) + drop;
        this.#start += drop;
        this.#scanned = this.#start;
      }
      return undefined;
    }
    const crlf = lf > this.#start && this.#buf[lf - 1] === CR;
    const stop = crlf ? lf - 1 : lf;
    const start = this.#start;
    this.#start = this.#scanned = lf + 1;
    if (this.#start === this.#end) this.#start = this.#end = this.#scanned = 0;
    const length = stop - start + Math.max(this.#dropped, 0);
    if (this.#dropped >= 0 || length > maxLength) {
      this.#dropped = -1;
      return { kind: "too-long", length, crlf };
    }
    return { kind: "line", bytes: view ? this.#buf.subarray(start, stop) : this.#buf.slice(start, stop), crlf };
  }

  /** Exactly `count` bytes if that many are buffered. */
  readBytes(count: number): Uint8Array | undefined {
    if (this.#end - this.#start < count) return undefined;
    const bytes = this.#buf.slice(this.#start, this.#start + count);
    this.#consume(count);
    return bytes;
  }

  /**
   * Up to `count` buffered bytes (at least one), if any are buffered: a view, valid until the next `push`, like
   * `readLineOrPart`'s (the caller copies them into a spool).
   */
  readAtMost(count: number): Uint8Array | undefined {
    const n = Math.min(count, this.#end - this.#start);
    if (n === 0) return undefined;
    const bytes = this.#buf.subarray(this.#start, this.#start + n);
    this.#consume(n);
    return bytes;
  }

  /** Drops up to `count` buffered bytes; returns how many were dropped. */
  skip(count: number): number {
    const n = Math.min(count, this.#end - this.#start);
    this.#consume(n);
    return n;
  }

  #consume(n: number): void {
    this.#start += n;
    if (this.#scanned < this.#start) this.#scanned = this.#start;
    if (this.#start === this.#end) this.#start = this.#end = this.#scanned = 0;
  }
}
