/**
 * The contract between the protocol servers and the network adapter.
 *
 * The core owns it and `net/` implements it (`net/connection.ts` over `node:net`, and on Bun
 * `net/bun-connection.ts` over `Bun.listen` for the plain SMTP listeners), as a runtime adapter
 * implements a core type. Protocol code (smtp/, imap/, pop3/) sees a connection only through this
 * interface, so an adapter replaces another without touching them.
 */

/** One input line, framed on LF. `crlf` tells whether the LF was preceded by CR (RFC 5321 §2.3.8). */
export interface Line {
  readonly kind: "line";
  /** The line's bytes without its CRLF or LF. */
  readonly bytes: Uint8Array;
  /** True when the line ended with CRLF, false when it ended with a bare LF. */
  readonly crlf: boolean;
}

/** A line longer than the limit: its bytes were discarded up to and including the next LF. */
export interface LineTooLong {
  readonly kind: "too-long";
  /** How many bytes the discarded line had, without its line ending. */
  readonly length: number;
  /** True when it ended with CRLF (SMTP DATA needs it to find <CRLF>.<CRLF>). */
  readonly crlf: boolean;
}

export type LineResult = Line | LineTooLong;

/** The first bytes of a line longer than the limit, whose end has not been read yet (`readLineOrPart`). */
export interface LinePart {
  readonly kind: "part";
  readonly bytes: Uint8Array;
}

export interface TlsInfo {
  /** e.g. "TLSv1.3" */
  readonly protocol: string;
  /** e.g. "TLS_AES_256_GCM_SHA384" */
  readonly cipher: string;
}

export interface Connection {
  readonly id: number;
  /** Listener name from config: "smtp", "submission", "imaps", ... */
  readonly listener: string;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** Set once TLS is up (implicit TLS or after startTls). */
  readonly tls: TlsInfo | null;
  /** True after close() or when the peer went away. */
  readonly closed: boolean;
  /**
   * Why reads now resolve null although the peer is still there: it sent nothing for the idle
   * timeout, or the server is shutting down. The protocol answers with its own farewell
   * (`421 4.4.2`, `* BYE`, `-ERR`) and returns.
   */
  readonly interrupted: "timeout" | "shutdown" | null;

  /**
   * Reads the next line. Resolves null at end of input or when the idle timeout fired.
   * A line over `maxLineLength` resolves `LineTooLong` and the stream stays in sync.
   */
  readLine(maxLineLength?: number): Promise<LineResult | null>;
  /**
   * Reads the next line, or the next `maxLength` bytes of a longer line, so message data with long lines is
   * never buffered whole (SMTP DATA). Resolves null like `readLine`. The bytes may be a view of the read
   * buffer, valid only until more input is read: copy them before awaiting anything else.
   */
  readLineOrPart(maxLength: number): Promise<LineResult | LinePart | null>;
  /**
   * `readLineOrPart` without waiting: the next line or part if it is already buffered, else undefined (then
   * await `readLineOrPart`). A message arrives many lines to a packet, and this reads them without a promise
   * each. The same rule for the bytes: a view, copy them before awaiting anything.
   */
  bufferedLineOrPart(maxLength: number): LineResult | LinePart | undefined;
  /** Reads exactly `count` bytes (IMAP literals). Resolves null if input ends first. */
  readBytes(count: number): Promise<Uint8Array | null>;
  /**
   * Reads between 1 and `count` bytes, as many as have arrived (SMTP BDAT chunks). Null if input ended. Like
   * `readLineOrPart`'s, the bytes may be a view of the read buffer: copy them before awaiting anything else.
   */
  readAtMost(count: number): Promise<Uint8Array | null>;
  /** Reads and throws away exactly `count` bytes, without buffering them. False if input ended first. */
  skipBytes(count: number): Promise<boolean>;
  /** True when a complete line is already buffered (used to batch pipelined replies). */
  hasBufferedLine(): boolean;

  write(data: string | Uint8Array): Promise<void>;
  /**
   * Upgrades the connection to TLS in place (server side). Any bytes the client sent before the
   * handshake are discarded (RFC 3207 §4.2, the STARTTLS command-injection defence).
   */
  startTls(): Promise<void>;
  /** True once `startCompression` has run. */
  readonly compressed: boolean;
  /**
   * From now on both directions are raw DEFLATE (RFC 1951), as IMAP COMPRESS=DEFLATE asks (RFC 4978 §3):
   * input is inflated before framing (the line and literal limits apply to the inflated bytes) and every
   * `write` ends with a sync flush, so the peer can decode each response as soon as it arrives. Over TLS it
   * compresses inside TLS. Throws if compression is already active.
   */
  startCompression(): void;
  /** Changes the idle timeout, in milliseconds, for the following reads. */
  setIdleTimeout(ms: number): void;
  /** Ends the connection after flushing queued writes. */
  close(): void;
}

/** A protocol server's per-connection entry point. It owns the connection until it returns. */
export type ConnectionHandler = (conn: Connection) => Promise<void>;
