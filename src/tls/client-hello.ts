/**
 * The two things a TLS-ALPN-01 responder needs from a ClientHello before its handshake starts: the
 * server name (SNI, RFC 6066 §3) and the offered ALPN protocols (RFC 7301 §3.1). Pure: fed the bytes
 * received so far, it says "need more", what it found, or that this is not a ClientHello it reads.
 */

/** The most bytes read before giving up: a ClientHello fits in one 16 KiB record (RFC 8446 §5.1). */
export const CLIENT_HELLO_LIMIT = 16_384 + 5;

export type ClientHelloResult =
  | { kind: "more" }
  | { kind: "hello"; serverName: string | undefined; alpn: string[] }
  | { kind: "other" };

const MORE = { kind: "more" } as const;
const OTHER = { kind: "other" } as const;

/** RFC 8446 §5.1: records of type handshake(22); RFC 8446 §4: handshake type client_hello(1). */
const HANDSHAKE_RECORD = 22;
const CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;

export function parseClientHello(bytes: Uint8Array): ClientHelloResult {
  // The handshake message may be split over several records: join their payloads.
  const payload: number[] = [];
  let offset = 0;
  let needed = Infinity;
  while (payload.length < needed) {
    if (bytes.length < offset + 5) return bytes.length >= CLIENT_HELLO_LIMIT ? OTHER : MORE;
    if (bytes[offset] !== HANDSHAKE_RECORD || bytes[offset + 1] !== 3) return OTHER;
    const length = (bytes[offset + 3]! << 8) | bytes[offset + 4]!;
    if (length === 0 || length > 16_384) return OTHER;
    if (bytes.length < offset + 5 + length) return offset + 5 + length > CLIENT_HELLO_LIMIT ? OTHER : MORE;
    for (const b of bytes.subarray(offset + 5, offset + 5 + length)) payload.push(b);
    offset += 5 + length;
    if (needed === Infinity && payload.length >= 4) {
      if (payload[0] !== CLIENT_HELLO) return OTHER;
      needed = 4 + ((payload[1]! << 16) | (payload[2]! << 8) | payload[3]!);
      if (needed > CLIENT_HELLO_LIMIT) return OTHER;
    }
  }
  return readHello(Uint8Array.from(payload.slice(4, needed)));
}

/** RFC 8446 §4.1.2: legacy_version, random, session id, cipher suites, compression methods, extensions. */
function readHello(hello: Uint8Array): ClientHelloResult {
  const r = new Reader(hello);
  r.skip(2 + 32);
  r.skip(r.u8());
  r.skip(r.u16());
  r.skip(r.u8());
  let serverName: string | undefined;
  let alpn: string[] = [];
  if (r.left > 0) {
    const extensions = new Reader(r.bytes(r.u16()));
    while (extensions.left > 0 && !extensions.failed) {
      const type = extensions.u16();
      const body = new Reader(extensions.bytes(extensions.u16()));
      if (type === EXT_SERVER_NAME) serverName = readServerName(body);
      else if (type === EXT_ALPN) alpn = readAlpn(body);
    }
    if (extensions.failed) return OTHER;
  }
  return r.failed ? OTHER : { kind: "hello", serverName, alpn };
}

/** RFC 6066 §3: a list of (type, name); type 0 is host_name. */
function readServerName(body: Reader): string | undefined {
  const list = new Reader(body.bytes(body.u16()));
  while (list.left > 0 && !list.failed) {
    const type = list.u8();
    const name = list.bytes(list.u16());
    if (type === 0) return new TextDecoder().decode(name).toLowerCase();
  }
  return undefined;
}

/** RFC 7301 §3.1: ProtocolName protocol_name_list<2..2^16-1>, each <1..2^8-1>. */
function readAlpn(body: Reader): string[] {
  const list = new Reader(body.bytes(body.u16()));
  const names: string[] = [];
  while (list.left > 0 && !list.failed) names.push(new TextDecoder().decode(list.bytes(list.u8())));
  return list.failed ? [] : names;
}

/** Big-endian reads that never throw: reading past the end sets `failed`. */
class Reader {
  #at = 0;
  failed = false;
  constructor(private readonly data: Uint8Array) {}
  get left(): number {
    return this.data.length - this.#at;
  }
  bytes(n: number): Uint8Array {
    if (n > this.left) {
      this.failed = true;
      this.#at = this.data.length;
      return new Uint8Array(0);
    }
    const out = this.data.subarray(this.#at, this.#at + n);
    this.#at += n;
    return out;
  }
  skip(n: number): void {
    this.bytes(n);
  }
  u8(): number {
    return this.bytes(1)[0] ?? 0;
  }
  u16(): number {
    const b = this.bytes(2);
    return b.length === 2 ? (b[0]! << 8) | b[1]! : 0;
  }
}
