/**
 * SpamAssassin's spamd over the SPAMC/1.5 protocol (SYMBOLS): score, threshold and rule names.
 * Spam at or above `rejectScore` is refused at SMTP time; other spam goes to Junk, tagged.
 */
import { type DaemonAddress, exchange } from "../net/daemon.ts";
import type { PolicyCheck, PolicyContext } from "./pipeline.ts";
import type { Verdict } from "./verdict.ts";

export interface SpamdResult {
  spam: boolean;
  score: number;
  threshold: number;
  symbols: string[];
}

const enc = new TextEncoder();

export function parseSpamdReply(reply: string): SpamdResult {
  const status = /^SPAMD\/[\d.]+ (\d+) (\S+)/.exec(reply);
  if (!status) throw new Error(`unexpected spamd reply: ${reply.slice(0, 60)}`);
  if (status[1] !== "0") throw new Error(`spamd error ${status[1]} ${status[2]}`);
  const spam = /^Spam: (True|False|Yes|No) ; (-?[\d.]+) \/ (-?[\d.]+)/im.exec(reply);
  if (!spam) throw new Error("spamd reply has no Spam: line");
  const body = reply.slice(reply.indexOf("\r\n\r\n") + 4).trim();
  return {
    spam: spam[1] === "True" || spam[1] === "Yes",
    score: Number(spam[2]),
    threshold: Number(spam[3]),
    symbols: body ? body.split(",") : [],
  };
}

export async function spamdCheck(address: DaemonAddress, raw: Uint8Array, timeoutMs: number): Promise<SpamdResult> {
  const head = enc.encode(`SYMBOLS SPAMC/1.5\r\nContent-length: ${raw.length}\r\nUser: postern\r\n\r\n`);
  const reply = await exchange(address, [head, raw], timeoutMs);
  return parseSpamdReply(new TextDecoder().decode(reply));
}

export function spamassassin(
  options: DaemonAddress & { timeoutMs: number; onFailure: "accept" | "tempfail"; rejectScore: number },
): PolicyCheck {
  return {
    name: "spamassassin",
    stages: ["data"],
    roles: ["mx"],
    timeoutMs: options.timeoutMs,
    onFailure: options.onFailure,
    async run(context: PolicyContext): Promise<Verdict> {
      const result = await spamdCheck(options, context.raw!, options.timeoutMs);
      const headers = [
        `X-Spam-Status: ${result.spam ? "Yes" : "No"}, score=${result.score.toFixed(1)} required=${
          result.threshold.toFixed(1)
        } tests=${result.symbols.join(",") || "none"}`,
        `X-Spam-Flag: ${result.spam ? "YES" : "NO"}`,
      ];
      if (!result.spam) return { action: "tag", headers };
      if (result.score >= options.rejectScore) {
        return { action: "reject", reason: `Message considered spam (score ${result.score.toFixed(1)})`, headers };
      }
      return { action: "junk", reason: `spam score ${result.score.toFixed(1)}`, headers };
    },
  };
}
