/**
 * Sender-authentication results of unsigned messages, kept as long as the DNS answers they were computed from.
 *
 * Without a DKIM or ARC signature, what SPF, DKIM ("none"), ARC ("none") and DMARC say about a message is a
 * function of our host name, the client's IP address, HELO name, MAIL FROM, the From and Return-Path fields, and DNS (RFC 7208 §4,
 * RFC 7489 §6.6): the header fields mailauth writes contain nothing else. A sender that sends many messages in a
 * row (a mailing list, a notification service, a forwarder) gets the same result each time, and computing it is a
 * large part of the cost of accepting a message. So the result is kept under those inputs until the first of the DNS
 * answers it used would be looked up again (their TTL, src/net/dns.ts), and not at all when:
 * - the message is signed (DKIM-Signature, any ARC field): the checks then read the signatures and the body;
 * - any lookup was not a kept TXT answer (an A, MX or PTR lookup of an `a`, `mx`, `ptr` or `exists` mechanism, a
 *   failure or timeout: temperror is never kept);
 * - a record used the `t` macro (RFC 7208 §7.3: the current time).
 */
import type { DnsResolve } from "../net/dns.ts";

const MAX_ENTRIES = 10_000;

/** Header fields of the message that the kept result may depend on. */
const DEPENDS_ON = /^(?:from|return-path)[ \t]*:[^\r\n]*(?:\r\n[ \t][^\r\n]*)*/gim;
/** Fields that make the checks read more than the envelope and the From field. */
const SIGNED = /^(?:dkim-signature|arc-[a-z-]+)[ \t]*:/im;
/** RFC 7208 §7.3: the `t` macro letter, in any case. */
const TIME_MACRO = /%\{t/i;

export interface AuthInputs {
  /** Our host name, the authserv-id in the fields written. */
  hostname: string;
  ip: string;
  helo: string;
  sender: string;
  /** The message's header section (latin1), up to and including the empty line. */
  header: string;
}

/** The key of a message's result, or null when its result cannot be kept (it is signed). */
export function resultKey(inputs: AuthInputs): string | null {
  if (SIGNED.test(inputs.header)) return null;
  const fields = inputs.header.match(DEPENDS_ON) ?? [];
  return [inputs.hostname, inputs.ip, inputs.helo, inputs.sender, ...fields].join("\n");
}

/** Records the lookups of one check, to tell afterwards until when its result holds. */
export class LookupRecorder {
  #asked: Array<[string, string]> = [];
  #timeDependent = false;

  constructor(private readonly resolve: DnsResolve) {}

  /** `resolve`, recording what was asked and whether an answer used the time macro. */
  wrap(resolve: DnsResolve): DnsResolve {
    const recording = (name: string, rrtype: string) => {
      this.#asked.push([name, rrtype]);
      const answer = resolve(name, rrtype);
      if (rrtype === "TXT") {
        answer.then((records) => {
          if (TIME_MACRO.test(JSON.stringify(records))) this.#timeDependent = true;
        }, () => {});
      }
      return answer;
    };
    return Object.assign(recording, { timeoutMs: resolve.timeoutMs });
  }

  /** Until when a result from these lookups holds (epoch ms), or null when it must not be kept. */
  keptUntil(): number | null {
    if (this.#timeDependent || !this.resolve.keptUntil) return null;
    let until = Infinity;
    for (const [name, rrtype] of this.#asked) {
      const kept = this.resolve.keptUntil(name, rrtype);
      if (kept === undefined) return null;
      until = Math.min(until, kept);
    }
    return until === Infinity ? null : until;
  }
}

/** Results by `resultKey`, each until its `keptUntil`; the oldest goes first when full. */
export class AuthResultCache<T> {
  #entries = new Map<string, { until: number; result: T }>();

  get(key: string): T | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    if (hit.until > Date.now()) return hit.result;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: string, result: T, until: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { until, result });
  }
}
