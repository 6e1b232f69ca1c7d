/**
 * rspamd over its HTTP protocol (`POST /checkv2` with the envelope in headers): its action is
 * honoured — reject → 550, soft reject / greylist → 451, add header / rewrite subject → Junk,
 * no action → tagged.
 */
import type { PolicyCheck, PolicyContext } from "./pipeline.ts";
import type { Verdict } from "./verdict.ts";

interface RspamdReply {
  action: string;
  score: number;
  required_score?: number;
  symbols?: Record<string, unknown>;
  messages?: { smtp_message?: string };
}

export function rspamdVerdict(reply: RspamdReply): Verdict {
  const headers = [
    `X-Spam-Status: ${reply.action === "no action" ? "No" : "Yes"}, score=${reply.score.toFixed(1)} required=${
      (reply.required_score ?? 0).toFixed(1)
    } tests=${Object.keys(reply.symbols ?? {}).join(",") || "none"}`,
    `X-Spam-Action: ${reply.action}`,
  ];
  const reason = reply.messages?.smtp_message;
  switch (reply.action) {
    case "reject":
      return {
        action: "reject",
        reason: reason ?? `Message considered spam (score ${reply.score.toFixed(1)})`,
        headers,
      };
    case "soft reject":
    case "greylist":
      return { action: "tempfail", reason: reason ?? "Try again later", headers };
    case "add header":
    case "rewrite subject":
      return { action: "junk", reason: `rspamd: ${reply.action}`, headers };
    default:
      return { action: "tag", headers };
  }
}

export function rspamd(options: { url: string; timeoutMs: number; onFailure: "accept" | "tempfail" }): PolicyCheck {
  return {
    name: "rspamd",
    stages: ["data"],
    roles: ["mx"],
    timeoutMs: options.timeoutMs,
    onFailure: options.onFailure,
    async run(context: PolicyContext): Promise<Verdict> {
      const headers: Record<string, string> = { IP: context.remoteAddress, Helo: context.helo, From: context.sender };
      if (context.account) headers.User = context.account;
      const init: RequestInit & { headers: Headers } = {
        method: "POST",
        headers: new Headers(headers),
        body: context.raw as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(options.timeoutMs),
      };
      for (const rcpt of context.recipients) init.headers.append("Rcpt", rcpt);
      const response = await fetch(new URL("/checkv2", options.url), init);
      if (!response.ok) throw new Error(`rspamd answered ${response.status}`);
      return rspamdVerdict((await response.json()) as RspamdReply);
    },
  };
}
