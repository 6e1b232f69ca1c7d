/**
 * ClamAV's clamd: the message is streamed with INSTREAM (4-byte big-endian chunk lengths, a
 * zero-length chunk to end); "FOUND" rejects the message naming the signature.
 */
import { type DaemonAddress, exchange } from "../net/daemon.ts";
import type { PolicyCheck, PolicyContext } from "./pipeline.ts";
import type { Verdict } from "./verdict.ts";

const CHUNK = 64 * 1024;

export type ClamdResult = { infected: false } | { infected: true; signature: string };

export function parseClamdReply(reply: string): ClamdResult {
  const text = reply.replace(/\0+$/, "").trim();
  if (/: OK$/.test(text)) return { infected: false };
  const found = /: (.+) FOUND$/.exec(text);
  if (found) return { infected: true, signature: found[1]! };
  throw new Error(`clamd: ${text || "no answer"}`);
}

export async function clamdScan(address: DaemonAddress, raw: Uint8Array, timeoutMs: number): Promise<ClamdResult> {
  const parts: Uint8Array[] = [new TextEncoder().encode("zINSTREAM\0")];
  for (let at = 0; at < raw.length; at += CHUNK) {
    const chunk = raw.subarray(at, at + CHUNK);
    const length = new Uint8Array(4);
    new DataView(length.buffer).setUint32(0, chunk.length);
    parts.push(length, chunk);
  }
  parts.push(new Uint8Array(4));
  return parseClamdReply(new TextDecoder().decode(await exchange(address, parts, timeoutMs)));
}

export function clamav(options: DaemonAddress & { timeoutMs: number; onFailure: "accept" | "tempfail" }): PolicyCheck {
  return {
    name: "clamav",
    stages: ["data"],
    roles: ["mx", "submission"],
    timeoutMs: options.timeoutMs,
    onFailure: options.onFailure,
    async run(context: PolicyContext): Promise<Verdict> {
      const result = await clamdScan(options, context.raw!, options.timeoutMs);
      if (!result.infected) return { action: "tag", headers: ["X-Virus-Scanned: clamav, clean"] };
      return {
        action: "reject",
        reason: `Virus found: ${result.signature}`,
        headers: [`X-Virus-Status: infected ${result.signature}`],
      };
    },
  };
}
