/**
 * The pipeline a config asks for: each check present only when its `policy.*` key turns it on,
 * in a fixed order — blocklists, greylisting, the daemons, then the user's hooks.
 */
import type { Config } from "../config/schema.ts";
import type { DnsResolve } from "../net/dns.ts";
import { clamav } from "./clamd.ts";
import { dnsbl } from "./dnsbl.ts";
import { greylisting, type GreylistStore } from "./greylist.ts";
import { type RateCounter, rateLimits } from "./rate-limit.ts";
import { functionHook, type HookModule, httpHook, moduleHook } from "./hooks.ts";
import { type PolicyCheck, PolicyPipeline } from "./pipeline.ts";
import { rspamd } from "./rspamd.ts";
import { spamassassin } from "./spamd.ts";

/** `embedded` are hook functions an embedding program passed in; they run after the config's hooks. */
export function buildPipeline(
  config: Config,
  resolve: DnsResolve,
  greylistStore: GreylistStore,
  count: RateCounter,
  embedded: readonly HookModule[] = [],
): PolicyPipeline {
  const { policy } = config;
  const checks: PolicyCheck[] = [];
  if (policy.dnsbl.zones.length) checks.push(dnsbl({ zones: policy.dnsbl.zones, resolve, timeoutMs: 10_000 }));
  if (Object.keys(policy.rateLimits).length) checks.push(rateLimits({ limits: policy.rateLimits, count }));
  if (policy.greylist) {
    checks.push(
      greylisting({ store: greylistStore, delaySeconds: policy.greylist.delay, expirySeconds: policy.greylist.expiry }),
    );
  }
  if (policy.spamassassin) {
    const s = policy.spamassassin;
    checks.push(
      spamassassin({
        host: s.host,
        port: s.port,
        socket: s.socket,
        timeoutMs: s.timeout,
        onFailure: s.onFailure,
        rejectScore: s.rejectScore,
      }),
    );
  }
  if (policy.rspamd) {
    checks.push(
      rspamd({ url: policy.rspamd.url, timeoutMs: policy.rspamd.timeout, onFailure: policy.rspamd.onFailure }),
    );
  }
  if (policy.clamav) {
    const c = policy.clamav;
    checks.push(clamav({ host: c.host, port: c.port, socket: c.socket, timeoutMs: c.timeout, onFailure: c.onFailure }));
  }
  for (const hook of policy.hooks) {
    checks.push(
      /^https?:\/\//i.test(hook) ? httpHook(hook, 10_000) : moduleHook(hook, config.configDir ?? process.cwd(), 10_000),
    );
  }
  embedded.forEach((hooks, i) => checks.push(functionHook(`embedded #${i + 1}`, hooks, 10_000)));
  return new PolicyPipeline(checks);
}
