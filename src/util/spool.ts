/**
 * Bytes that arrive in pieces (a message over SMTP, an HTTP upload), kept in memory while few and moved to a
 * temporary file once they pass `memoryLimit`. A connection then holds at most that many bytes however large
 * the message, so many slow senders cannot fill the server's memory (issue 18).
 *
 * The file is unlinked as soon as it is opened: it lives only as long as its descriptor, so nothing is left
 * behind by a crash and several processes can share the directory.
 */
import { mkdir, open, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";

/** Bytes held in memory before the spool moves to a file. */
export const SPOOL_MEMORY_LIMIT = 256 * 1024;

export interface SpoolOptions {
  /** Directory for the temporary file; without one the spool stays in memory (tests, embedding). */
  dir?: string;
  memoryLimit?: number;
}

export class Spool {
  readonly #dir: string | undefined;
  readonly #memoryLimit: number;
  /** Bytes not yet in the file, copied in (callers may pass views they reuse). Grows up to the memory limit. */
  #pending = new Uint8Array(0);
  #pendingSize = 0;
  #file: FileHandle | null = null;
  #fileSize = 0;
  #closed = false;
  #spilled = false;

  constructor(options: SpoolOptions = {}) {
    this.#dir = options.dir;
    this.#memoryLimit = options.memoryLimit ?? SPOOL_MEMORY_LIMIT;
  }

  /** Bytes written so far. */
  get size(): number {
    return this.#fileSize + this.#pendingSize;
  }

  /** True once the bytes went to a file. */
  get spilled(): boolean {
    return this.#spilled;
  }

  /**
   * Adds `bytes`. They are copied before anything is awaited, so the caller may pass a view of a buffer it
   * reuses (a socket's read buffer). Memory holds at most `memoryLimit` plus one write.
   */
  async write(bytes: Uint8Array): Promise<void> {
    this.append(bytes);
    if (this.mustSpill) await this.spill();
  }

  /**
   * `write` without waiting: copies `bytes` in. The caller then awaits `spill()` whenever `mustSpill` says so, so
   * memory stays as bounded as with `write` (SMTP DATA appends line by line).
   */
  append(bytes: Uint8Array): void {
    if (this.#closed) throw new Error("spool is discarded");
    this.#reserve(bytes.length);
    this.#pending.set(bytes, this.#pendingSize);
    this.#pendingSize += bytes.length;
  }

  /** True when the bytes in memory reached the limit and must move to the file before more are appended. */
  get mustSpill(): boolean {
    return this.#dir !== undefined && this.#pendingSize >= this.#memoryLimit;
  }

  /** Moves the bytes in memory to the file. */
  async spill(): Promise<void> {
    await this.#spill();
  }

  /**
   * Everything written, as one array (read back from the file when the spool spilled), after `prefix` if given:
   * one allocation for both, as a message is read back with its trace header in front.
   */
  async bytes(prefix: Uint8Array = new Uint8Array(0)): Promise<Uint8Array> {
    const out = new Uint8Array(prefix.length + this.size);
    out.set(prefix);
    let at = 0;
    while (at < this.#fileSize) {
      const { bytesRead } = await this.#file!.read(out, prefix.length + at, this.#fileSize - at, at);
      if (bytesRead === 0) throw new Error(`spool file ended at ${at} of ${this.#fileSize} bytes`);
      at += bytesRead;
    }
    out.set(this.#pending.subarray(0, this.#pendingSize), prefix.length + at);
    return out;
  }

  /** Frees the memory and the file. Safe to call more than once. */
  async discard(): Promise<void> {
    this.#closed = true;
    this.#pending = new Uint8Array(0);
    this.#pendingSize = 0;
    const file = this.#file;
    this.#file = null;
    await file?.close();
  }

  #reserve(more: number): void {
    const need = this.#pendingSize + more;
    if (need <= this.#pending.length) return;
    let size = Math.max(this.#pending.length * 2, 16 * 1024);
    while (size < need) size *= 2;
    // Spilling keeps the buffer near the limit: a write never needs more than the limit plus itself.
    if (this.#dir !== undefined) size = Math.min(size, Math.max(this.#memoryLimit * 2, need));
    const next = new Uint8Array(size);
    next.set(this.#pending.subarray(0, this.#pendingSize));
    this.#pending = next;
  }

  async #spill(): Promise<void> {
    if (!this.#file) {
      const dir = this.#dir!;
      await mkdir(dir, { recursive: true });
      const path = join(dir, `spool-${crypto.randomUUID()}`);
      this.#file = await open(path, "w+", 0o600);
      this.#spilled = true;
      await unlink(path);
    }
    const bytes = this.#pending.subarray(0, this.#pendingSize);
    this.#pendingSize = 0;
    let at = 0;
    while (at < bytes.length) {
      const { bytesWritten } = await this.#file.write(bytes, at, bytes.length - at, this.#fileSize);
      at += bytesWritten;
      this.#fileSize += bytesWritten;
    }
  }
}
