/**
 * Webhook targets of aliases: an `https://` URL, or `http://` where that is safe enough — a
 * loopback host (a sidecar, local development), or anywhere once `webhooks.allowHttp` says so.
 * A target at a private address needs `outbound.allowPrivateTargets` as well (issue 18): an IP
 * address or `localhost` name is refused when the alias is added, a name when mail is delivered.
 */
import { type AllowPrivateTargets, literalTargetRefusal } from "../net/outbound-url.ts";

/** Whether an alias target (or queued recipient) is a webhook URL rather than a mail address. */
export function isWebhookUrl(target: string): boolean {
  return /^https?:\/\//i.test(target);
}

/** `localhost` (and `*.localhost`, RFC 6761 §6.3), 127.0.0.0/8 and ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  return host === "::1" || host === "0:0:0:0:0:0:0:1";
}

/** Why a webhook URL may not be used, or null when it may. */
export function webhookRefusal(url: string, options: { allowHttp?: boolean } = {}): string | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `Not a valid URL: ${url}`;
  }
  if (parsed.protocol === "https:") return null;
  if (parsed.protocol !== "http:") return `Not an http(s) URL: ${url}`;
  if (options.allowHttp || isLoopbackHost(parsed.hostname)) return null;
  return `Plain http:// is allowed only to loopback hosts unless webhooks.allowHttp is set: ${url}`;
}

/** Why an alias may not take this webhook target: the URL rule, then a private IP address or localhost name. */
export function webhookTargetRefusal(
  url: string,
  options: { allowHttp?: boolean; allowPrivateTargets?: AllowPrivateTargets } = {},
): string | null {
  return webhookRefusal(url, options) ?? literalTargetRefusal(url, options.allowPrivateTargets);
}
