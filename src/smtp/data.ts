/**
 * DATA content: dot-unstuffing (RFC 5321 §4.5.2) and the end-of-data rule (§4.1.1.4), over
 * lines already framed on LF by `net/`. The size limit is enforced while reading: past it the
 * bytes are dropped but the content is still consumed to its end. The inverse, for sending, is
 * `dotStuff` in `mime/dot-stuffing.ts` (shared with POP3).
 */
import { concatBytes } from "../util/bytes.ts";
import type { LineResult } from "../connection.ts";

const CRLF = Uint8Array.of(0x0d, 0x0a);
const DOT = 0x2e;

export class DataDecoder {
  #chunks: Uint8Array[] = [];
  #size = 0;
  #exceeded = false;
  #bareLineFeeds = 0;
  /** Whether the previous line ended with CRLF (true at the start: DATA's own CRLF). */
  #afterCrlf = true;

  constructor(private readonly maxSize: number) {}

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

  /** Feeds one line; true when it was the terminating ".". */
  push(line: LineResult): boolean {
    if (line.kind === "too-long") {
      // Its bytes are gone and the message is too big, but how it ended still decides whether
      // a "." on the next line ends the data (the smuggling defence must not go stale).
      if (!line.crlf) this.#bareLineFeeds++;
      this.#afterCrlf = line.crlf;
      this.#size += line.length + 2;
      this.#exceeded = true;
      return false;
    }
    const { bytes } = line;
    // Only <CRLF>.<CRLF> ends the data: "." after a bare LF, or followed by one, is content
    // (the SMTP smuggling defence).
    if (bytes.length === 1 && bytes[0] === DOT && line.crlf && this.#afterCrlf) return true;
    const content = bytes.length > 0 && bytes[0] === DOT && this.#afterCrlf ? bytes.subarray(1) : bytes;
    if (!line.crlf) this.#bareLineFeeds++;
    this.#afterCrlf = line.crlf;
    this.#size += content.length + 2;
    if (this.#size > this.maxSize) this.#exceeded = true;
    if (!this.#exceeded) this.#chunks.push(content, CRLF);
    return false;
  }

  /** The content with CRLF line endings and dot-stuffing removed. */
  result(): Uint8Array {
    return concatBytes(this.#chunks);
  }
}
