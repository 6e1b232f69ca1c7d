/**
 * A small ustar (POSIX.1-1988 tar) writer and reader for `postern backup` and `restore`: regular
 * files only, names up to 255 bytes (prefix + name), contents copied in 1 MiB chunks through file
 * descriptors so a large database never sits in memory. GNU tar, bsdtar and Python's tarfile read
 * what it writes.
 */
import { closeSync, fstatSync, openSync, readSync, writeSync } from "node:fs";

const BLOCK = 512;
const CHUNK = 1 << 20;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An archive that cannot be read: not tar, cut short, or a header whose checksum is wrong. */
export class TarError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TarError";
  }
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** Splits a path into ustar's prefix (≤ 155 bytes) and name (≤ 100 bytes) at a slash. */
function splitName(path: string): { prefix: string; name: string } {
  if (encoder.encode(path).length <= 100) return { prefix: "", name: path };
  for (let i = path.indexOf("/"); i > 0; i = path.indexOf("/", i + 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100) return { prefix, name };
  }
  throw new RangeError(`Cannot store a name this long in a tar archive: ${path}`);
}

function header(path: string, size: number, mode: number, mtime: Date): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (offset: number, text: string) => block.set(encoder.encode(text), offset);
  const { prefix, name } = splitName(path);
  put(0, name);
  put(100, octal(mode & 0o7777, 8));
  put(108, octal(0, 8));
  put(116, octal(0, 8));
  put(124, octal(size, 12));
  put(136, octal(Math.floor(mtime.getTime() / 1000), 12));
  put(148, "        "); // the checksum counts its own field as spaces
  put(156, "0"); // regular file
  put(257, "ustar\x0000");
  put(345, prefix);
  let sum = 0;
  for (const byte of block) sum += byte;
  put(148, `${sum.toString(8).padStart(6, "0")}\0 `);
  return block;
}

/** Writes an archive entry by entry to a file; `close()` writes the end-of-archive blocks. */
export class TarWriter {
  #fd: number;

  constructor(path: string, mode = 0o600) {
    this.#fd = openSync(path, "wx", mode);
  }

  /** Adds `bytes` as the file `name`. */
  addBytes(name: string, bytes: Uint8Array, mode = 0o600): void {
    writeSync(this.#fd, header(name, bytes.length, mode, new Date()));
    writeSync(this.#fd, bytes);
    this.#pad(bytes.length);
  }

  /** Adds the file at `source` as `name`, copied in chunks; returns its size. */
  addFile(name: string, source: string, mode = 0o600, onChunk?: (chunk: Uint8Array) => void): number {
    const input = openSync(source, "r");
    try {
      const size = fstatSync(input).size;
      writeSync(this.#fd, header(name, size, mode, new Date()));
      const buffer = new Uint8Array(CHUNK);
      let done = 0;
      while (done < size) {
        const n = readSync(input, buffer, 0, Math.min(CHUNK, size - done), done);
        if (n === 0) throw new Error(`${source} became shorter while it was copied`);
        const chunk = buffer.subarray(0, n);
        onChunk?.(chunk);
        writeSync(this.#fd, chunk);
        done += n;
      }
      this.#pad(size);
      return size;
    } finally {
      closeSync(input);
    }
  }

  #pad(size: number): void {
    const rest = size % BLOCK;
    if (rest) writeSync(this.#fd, new Uint8Array(BLOCK - rest));
  }

  close(): void {
    try {
      writeSync(this.#fd, new Uint8Array(BLOCK * 2));
    } finally {
      closeSync(this.#fd);
    }
  }
}

export interface TarEntry {
  name: string;
  size: number;
  mode: number;
  /** Copies the content to `sink` in chunks; call it at most once, before the next entry. */
  read(sink: (chunk: Uint8Array) => void): void;
}

function field(block: Uint8Array, offset: number, length: number): string {
  const bytes = block.subarray(offset, offset + length);
  const end = bytes.indexOf(0);
  return decoder.decode(end < 0 ? bytes : bytes.subarray(0, end));
}

function number(block: Uint8Array, offset: number, length: number, what: string): number {
  const text = field(block, offset, length).trim();
  if (!/^[0-7]*$/.test(text)) throw new TarError(`Not a tar archive: the ${what} field is ${JSON.stringify(text)}`);
  return text ? parseInt(text, 8) : 0;
}

/** The regular files of the archive at `path`, in order; anything else in it is an error. */
export function* readTar(path: string): Generator<TarEntry> {
  const fd = openSync(path, "r");
  try {
    const total = fstatSync(fd).size;
    let offset = 0;
    const block = new Uint8Array(BLOCK);
    while (true) {
      if (offset + BLOCK > total) throw new TarError("The archive ends before its end-of-archive block");
      readSync(fd, block, 0, BLOCK, offset);
      if (block.every((b) => b === 0)) return;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
      if (sum !== number(block, 148, 8, "checksum")) throw new TarError(`Bad tar header checksum at byte ${offset}`);
      const type = String.fromCharCode(block[156]!);
      if (type !== "0" && type !== "\0") throw new TarError(`Unexpected tar entry type ${JSON.stringify(type)}`);
      const prefix = field(block, 345, 155);
      const name = prefix ? `${prefix}/${field(block, 0, 100)}` : field(block, 0, 100);
      const size = number(block, 124, 12, "size");
      const mode = number(block, 100, 8, "mode");
      const start = offset + BLOCK;
      if (start + size > total) throw new TarError(`The archive ends inside ${name}`);
      let consumed = false;
      yield {
        name,
        size,
        mode,
        read(sink) {
          if (consumed) throw new Error(`${name} was already read`);
          consumed = true;
          const buffer = new Uint8Array(Math.min(CHUNK, Math.max(size, 1)));
          for (let done = 0; done < size;) {
            const n = readSync(fd, buffer, 0, Math.min(buffer.length, size - done), start + done);
            sink(buffer.subarray(0, n));
            done += n;
          }
        },
      };
      offset = start + Math.ceil(size / BLOCK) * BLOCK;
    }
  } finally {
    closeSync(fd);
  }
}
