/**
 * A minimal authoritative DNS server over UDP on loopback, for tests that need SPF, DKIM,
 * DMARC or MX answers without the internet (RFC 1035 §4 message format; A, AAAA, CNAME, MX, PTR, SRV and TXT).
 * Names not in the table get NXDOMAIN. Answers have TTL 0 (never cached) unless `ttl` is given;
 * with `negativeTtl`, NXDOMAIN and empty answers carry an SOA allowing that much negative caching
 * (RFC 2308 §3), as real zones do (the benchmarks use both).
 */
import { createSocket, type Socket } from "node:dgram";
import { concatBytes } from "../../src/util/bytes.ts";

export type DnsRecord =
  | { type: "A" | "AAAA"; address: string }
  | { type: "TXT"; text: string }
  | { type: "MX"; priority: number; exchange: string }
  | { type: "CNAME" | "PTR"; target: string }
  | { type: "SRV"; priority: number; weight: number; port: number; target: string };

const TYPES = { A: 1, CNAME: 5, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33 } as const;

export class DnsServer {
  readonly records = new Map<string, DnsRecord[]>();
  queries: Array<{ name: string; type: number }> = [];
  #socket: Socket;
  port = 0;

  private constructor(socket: Socket, private readonly options: { ttl?: number; negativeTtl?: number }) {
    this.#socket = socket;
  }

  static async start(options: { ttl?: number; negativeTtl?: number } = {}): Promise<DnsServer> {
    const socket = createSocket("udp4");
    const server = new DnsServer(socket, options);
    socket.on("message", (msg, peer) => {
      const response = server.#answer(new Uint8Array(msg));
      if (response) socket.send(response, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    server.port = socket.address().port;
    return server;
  }

  add(name: string, record: DnsRecord): void {
    const key = name.toLowerCase().replace(/\.$/, "");
    this.records.set(key, [...(this.records.get(key) ?? []), record]);
  }

  close(): void {
    this.#socket.close();
  }

  #answer(query: Uint8Array): Uint8Array | null {
    if (query.length < 12) return null;
    const labels: string[] = [];
    let at = 12;
    while (at < query.length && query[at] !== 0) {
      const len = query[at]!;
      labels.push(new TextDecoder().decode(query.subarray(at + 1, at + 1 + len)));
      at += len + 1;
    }
    const questionEnd = at + 5;
    if (questionEnd > query.length) return null;
    const qtype = (query[at + 1]! << 8) | query[at + 2]!;
    const name = labels.join(".").toLowerCase();
    this.queries.push({ name, type: qtype });

    const known = this.records.get(name);
    const matching = (known ?? []).filter((r) => TYPES[r.type] === qtype);
    const answers = matching.map((r) => resourceRecord(r, this.options.ttl ?? 0));
    const authority = answers.length === 0 && this.options.negativeTtl !== undefined
      ? [soaRecord(this.options.negativeTtl)]
      : [];
    const header = new Uint8Array(12);
    header.set(query.subarray(0, 2)); // id
    header[2] = 0x84 | (query[2]! & 0x01); // QR, AA, RD copied
    header[3] = known ? 0x80 : 0x83; // RA; NXDOMAIN when the name is unknown
    header[5] = 1; // QDCOUNT
    header[7] = answers.length; // ANCOUNT
    header[9] = authority.length; // NSCOUNT
    return concatBytes([header, query.subarray(12, questionEnd), ...answers, ...authority]);
  }
}

/** An SOA for the question's name whose TTL and MINIMUM are both `ttl` (RFC 1035 §3.3.13). */
function soaRecord(ttl: number): Uint8Array {
  const u32 = (n: number) => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
  const rdata = concatBytes([
    encodeName("ns.test"),
    encodeName("hostmaster.test"),
    u32(1),
    u32(3600),
    u32(600),
    u32(86400),
    u32(ttl),
  ]);
  const head = new Uint8Array(12);
  head[0] = 0xc0;
  head[1] = 12; // pointer to the question's name
  head[3] = 6; // SOA
  head[5] = 1; // class IN
  head.set(u32(ttl), 6);
  head[10] = rdata.length >> 8;
  head[11] = rdata.length & 0xff;
  return concatBytes([head, rdata]);
}

function resourceRecord(record: DnsRecord, ttl: number): Uint8Array {
  let rdata: Uint8Array;
  switch (record.type) {
    case "A":
      rdata = Uint8Array.from(record.address.split(".").map(Number));
      break;
    case "TXT": {
      // RFC 1035 §3.3.14: one or more <character-string>s of at most 255 bytes.
      const bytes = new TextEncoder().encode(record.text);
      const parts: Uint8Array[] = [];
      for (let i = 0; i < bytes.length || i === 0; i += 255) {
        const chunk = bytes.subarray(i, i + 255);
        parts.push(Uint8Array.of(chunk.length), chunk);
      }
      rdata = concatBytes(parts);
      break;
    }
    case "MX":
      rdata = concatBytes([Uint8Array.of(record.priority >> 8, record.priority & 0xff), encodeName(record.exchange)]);
      break;
    case "AAAA":
      rdata = ipv6Bytes(record.address);
      break;
    case "CNAME":
    case "PTR":
      rdata = encodeName(record.target);
      break;
    case "SRV": {
      // RFC 2782: priority, weight, port (16 bits each), then the target name.
      const u16 = (n: number) => Uint8Array.of(n >> 8, n & 0xff);
      rdata = concatBytes([u16(record.priority), u16(record.weight), u16(record.port), encodeName(record.target)]);
      break;
    }
  }
  const head = new Uint8Array(12);
  head[0] = 0xc0;
  head[1] = 12; // pointer to the question's name
  head[3] = TYPES[record.type];
  head[5] = 1; // class IN
  head.set(Uint8Array.of(ttl >>> 24, (ttl >>> 16) & 0xff, (ttl >>> 8) & 0xff, ttl & 0xff), 6); // TTL
  head[10] = rdata.length >> 8;
  head[11] = rdata.length & 0xff;
  return concatBytes([head, rdata]);
}

function encodeName(name: string): Uint8Array {
  // The root name (a null MX's exchange, RFC 7505) is a single zero-length label.
  if (name === "" || name === ".") return Uint8Array.of(0);
  const parts = name.replace(/\.$/, "").split(".").map((label) => {
    const bytes = new TextEncoder().encode(label);
    return concatBytes([Uint8Array.of(bytes.length), bytes]);
  });
  return concatBytes([...parts, Uint8Array.of(0)]);
}

function ipv6Bytes(address: string): Uint8Array {
  const [head, tail = ""] = address.split("::");
  const groups = (part: string) => (part ? part.split(":") : []);
  const left = groups(head!);
  const right = groups(tail);
  const full = address.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return Uint8Array.from(full.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]));
}
