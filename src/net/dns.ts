/**
 * DNS lookups with the resolvers named in `dns.servers` (`ip`, `ip:port`, `[v6]:port`), or the
 * system's. The signature is `dns.promises.resolve`'s, which mailauth and the queue both take.
 *
 * TXT records are fetched by our own small client (wire format by dns-packet): Bun's resolver
 * returns each <character-string> of a TXT record as a record of its own, which breaks every
 * DKIM key longer than 255 bytes (RFC 6376 §3.6.2.2 keys are split exactly that way).
 */
import { createSocket } from "node:dgram";
import { getServers, promises as dns } from "node:dns";
import { connect } from "node:net";
import * as packet from "dns-packet";
import { type DnsStats, dnsStats } from "./dns-stats.ts";

/**
 * `dns.promises.resolve`'s signature; `timeoutMs` is the configured `dns.timeout`, which callers
 * that must not wait longer (inbound authentication) use as their deadline (`withDeadline`).
 */
export type DnsResolve = ((name: string, rrtype: string) => Promise<unknown>) & {
  readonly timeoutMs?: number;
  /**
   * Until when (epoch ms) the answer this resolver would give now for `name`/`rrtype` is the same kept answer,
   * or undefined when it is not kept (not cached, in flight, or not a cached type): what a result computed from
   * answers may be kept for (src/policy/auth-cache.ts).
   */
  readonly keptUntil?: (name: string, rrtype: string) => number | undefined;
};

export interface ResolverOptions {
  /** Milliseconds to wait for one answer (`dns.timeout`); default 2000. */
  timeoutMs?: number;
  /** Tries of each server (`dns.attempts`); default 2. */
  attempts?: number;
  /** Where lookups are counted and timed; default the process's `dnsStats`. */
  stats?: DnsStats;
}

const DEFAULT_TIMEOUT_MS = 2000;
const DEFAULT_ATTEMPTS = 2;

export function createResolver(servers: readonly string[], options: ResolverOptions = {}): DnsResolve {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
  const stats = options.stats ?? dnsStats;
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: attempts });
  if (servers.length) resolver.setServers([...servers]);
  const endpoints = () => (servers.length ? servers : getServers()).map(parseServer);
  const txt = new TxtCache();
  const resolve = (name: string, rrtype: string): Promise<unknown> => {
    if (rrtype !== "TXT") return stats.time(rrtype, () => resolver.resolve(name, rrtype));
    let asked = false;
    const answer = txt.get(name, () => {
      asked = true;
      return stats.time("TXT", () => resolveTxt(name, endpoints(), { timeoutMs, attempts }));
    });
    if (!asked) stats.cacheHits++;
    return answer;
  };
  const keptUntil = (name: string, rrtype: string) => (rrtype === "TXT" ? txt.keptUntil(name) : undefined);
  return Object.assign(resolve, { timeoutMs, keptUntil });
}

/**
 * A resolver whose lookups all end by one deadline, `ms` from now: an unanswered lookup fails
 * with ETIMEOUT when it comes, and later ones at once. Inbound SPF, DKIM and DMARC checks of one
 * message use one, so a resolver that never answers delays acceptance by `ms` at most and the
 * checks say temperror (RFC 7208 §2.6.6, RFC 8601 §2.7).
 */
export function withDeadline(resolve: DnsResolve, ms: number): DnsResolve {
  const deadline = Date.now() + ms;
  const bounded = (name: string, rrtype: string): Promise<unknown> => {
    const left = deadline - Date.now();
    if (left <= 0) return Promise.reject(dnsError("ETIMEOUT", name));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(dnsError("ETIMEOUT", name)), left);
    });
    const lookup = resolve(name, rrtype);
    lookup.catch(() => {}); // settled after the deadline: nobody is waiting any more
    return Promise.race([lookup, expired]).finally(() => clearTimeout(timer));
  };
  return Object.assign(bounded, { timeoutMs: ms });
}

/** The longest a TXT answer is kept, whatever its TTL says. */
const MAX_CACHE_S = 300;
const MAX_CACHE_ENTRIES = 10_000;

/**
 * TXT answers (SPF, DKIM keys, DMARC policies: three or more lookups per inbound message) kept
 * for their TTL, at most MAX_CACHE_S. A name that does not exist or has no TXT record is kept as
 * long as its zone's SOA allows (RFC 2308 §5), and not at all when the answer carries no SOA.
 * Failures (timeouts, SERVFAIL) are never kept. Lookups of a name already in flight share it.
 */
class TxtCache {
  #entries = new Map<string, { until: number; answer: Promise<string[][]> }>();

  /** Until when the answer for `name` is kept; undefined while it is in flight or when it is not kept. */
  keptUntil(name: string): number | undefined {
    const until = this.#entries.get(name.toLowerCase())?.until;
    return until !== undefined && until !== Infinity && until > Date.now() ? until : undefined;
  }

  get(name: string, lookup: () => Promise<TxtAnswer>): Promise<string[][]> {
    const key = name.toLowerCase();
    const now = Date.now();
    const hit = this.#entries.get(key);
    if (hit && hit.until > now) return hit.answer;
    if (this.#entries.size >= MAX_CACHE_ENTRIES) this.#entries.clear();
    const pending = lookup();
    const answer = pending.then((a) => a.records);
    // In flight: shared; settled: kept for its TTL (0 drops it).
    const entry = { until: Infinity, answer };
    this.#entries.set(key, entry);
    const keep = (ttl: number) => {
      if (this.#entries.get(key) !== entry) return;
      if (ttl > 0) entry.until = Date.now() + Math.min(ttl, MAX_CACHE_S) * 1000;
      else this.#entries.delete(key);
    };
    pending.then((a) => keep(a.ttl), (e: { negativeTtl?: number }) => keep(e.negativeTtl ?? 0));
    return answer;
  }
}

/** TXT records with the time they may be kept (the smallest TTL among them). */
export interface TxtAnswer {
  records: string[][];
  ttl: number;
}

interface Endpoint {
  host: string;
  port: number;
}

export function parseServer(server: string): Endpoint {
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (v6) return { host: v6[1]!, port: Number(v6[2] ?? 53) };
  const v4 = /^([^:]+):(\d+)$/.exec(server);
  if (v4) return { host: v4[1]!, port: Number(v4[2]) };
  return { host: server, port: 53 };
}

/** A DNS error with the `code` Node's resolver would give, which mailauth distinguishes. */
function dnsError(code: string, name: string): Error {
  return Object.assign(new Error(`${code} ${name}`), { code, hostname: name });
}

/** RFC 2308 §5: a negative answer may be kept for the smaller of its SOA's TTL and MINIMUM. */
function negativeTtl(response: packet.Packet): number | undefined {
  const soa = (response.authorities ?? []).find((a) => a.type === "SOA") as
    | { ttl?: number; data?: { minimum?: number } }
    | undefined;
  return soa ? Math.min(soa.ttl ?? 0, soa.data?.minimum ?? 0) : undefined;
}

/**
 * TXT records: one array of <character-string>s per record, like `resolveTxt`, with their TTL.
 * A name that does not exist (ENOTFOUND) or has no TXT record (ENODATA) throws an error that
 * carries `negativeTtl` when the answer allows keeping it.
 */
export async function resolveTxt(
  name: string,
  servers: readonly Endpoint[],
  options: { timeoutMs?: number; attempts?: number } = {},
): Promise<TxtAnswer> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  let lastError: Error = dnsError("ECONNREFUSED", name);
  for (let attempt = 0; attempt < (options.attempts ?? DEFAULT_ATTEMPTS); attempt++) {
    for (const server of servers) {
      try {
        let response = await udpQuery(name, server, timeoutMs);
        // RFC 1035 §4.2.1 / RFC 7766: a truncated UDP answer is asked again over TCP.
        if (response.flags !== undefined && response.flags & packet.TRUNCATED_RESPONSE) {
          response = await tcpQuery(name, server, timeoutMs);
        }
        const rcode = (response as { rcode?: string }).rcode;
        const negative = (code: string) => Object.assign(dnsError(code, name), { negativeTtl: negativeTtl(response) });
        if (rcode === "NXDOMAIN") throw negative("ENOTFOUND");
        if (rcode !== "NOERROR") throw dnsError(rcode === "REFUSED" ? "EREFUSED" : "ESERVFAIL", name);
        const records = (response.answers ?? [])
          .filter((a): a is packet.TxtAnswer => a.type === "TXT")
          .map((a) =>
            (Array.isArray(a.data) ? a.data : [a.data]).map((
              s,
            ) => (typeof s === "string" ? s : new TextDecoder().decode(s)))
          );
        const ttls = (response.answers ?? []).filter((a) => a.type === "TXT").map((a) => a.ttl ?? 0);
        if (records.length === 0) throw negative("ENODATA");
        return { records, ttl: Math.min(...ttls) };
      } catch (e) {
        const code = (e as { code?: string }).code;
        if (code === "ENOTFOUND" || code === "ENODATA") throw e;
        lastError = e as Error;
      }
    }
  }
  throw lastError;
}

function query(name: string): Buffer {
  return packet.encode({
    type: "query",
    id: crypto.getRandomValues(new Uint16Array(1))[0]!,
    flags: packet.RECURSION_DESIRED,
    questions: [{ type: "TXT", name }],
  });
}

function udpQuery(name: string, server: Endpoint, timeoutMs: number): Promise<packet.Packet> {
  const message = query(name);
  const id = message.readUInt16BE(0);
  return new Promise((resolve, reject) => {
    const socket = createSocket(server.host.includes(":") ? "udp6" : "udp4");
    const timer = setTimeout(() => done(dnsError("ETIMEOUT", name)), timeoutMs);
    const done = (error: Error | null, answer?: packet.Packet) => {
      clearTimeout(timer);
      socket.close();
      if (error) reject(error);
      else resolve(answer!);
    };
    socket.on("error", (e) => done(Object.assign(e, { code: (e as { code?: string }).code ?? "ECONNREFUSED" })));
    socket.on("message", (data) => {
      try {
        const answer = packet.decode(data);
        if (answer.id === id) done(null, answer); // anything else is a stray or spoofed reply
      } catch {
        // malformed: keep waiting for a good answer until the timeout
      }
    });
    socket.send(message, server.port, server.host);
  });
}

function tcpQuery(name: string, server: Endpoint, timeoutMs: number): Promise<packet.Packet> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host);
    const timer = setTimeout(() => fail(dnsError("ETIMEOUT", name)), timeoutMs);
    let buffer = Buffer.alloc(0);
    const fail = (e: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(e);
    };
    socket.on("error", fail);
    socket.on("connect", () =>
      socket.write(packet.streamEncode({
        type: "query",
        id: crypto.getRandomValues(new Uint16Array(1))[0]!,
        flags: packet.RECURSION_DESIRED,
        questions: [{ type: "TXT", name }],
      })));
    socket.on("data", (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length >= 2 && buffer.length >= 2 + buffer.readUInt16BE(0)) {
        clearTimeout(timer);
        socket.destroy();
        try {
          resolve(packet.streamDecode(buffer));
        } catch (e) {
          reject(e);
        }
      }
    });
  });
}
