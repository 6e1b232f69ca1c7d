/**
 * The policy pipeline: checks run in order at each SMTP stage, each with a timeout and a
 * failure policy (fail open: accept and tag `scan-failed`; fail closed: tempfail), and their
 * verdicts combine into one decision.
 */
import { count, observe } from "../util/counters.ts";
import { log } from "../util/log.ts";
import { accept, combine, type Verdict } from "./verdict.ts";

export type Stage = "rcpt" | "data";

export interface PolicyContext {
  stage: Stage;
  /** "mx" for inbound mail, "submission" for authenticated users. */
  role: "mx" | "submission";
  remoteAddress: string;
  helo: string;
  sender: string;
  recipients: string[];
  /** The account that authenticated, if any. */
  account: string | null;
  /** The whole message, at the data stage. */
  raw?: Uint8Array;
}

export interface PolicyCheck {
  name: string;
  stages: readonly Stage[];
  /** Which listener roles the check applies to. */
  roles: readonly ("mx" | "submission")[];
  timeoutMs: number;
  onFailure: "accept" | "tempfail";
  run(context: PolicyContext): Promise<Verdict>;
}

export class PolicyPipeline {
  constructor(readonly checks: readonly PolicyCheck[]) {}

  async run(context: PolicyContext): Promise<Verdict> {
    const verdicts: Verdict[] = [];
    for (const check of this.checks) {
      if (!check.stages.includes(context.stage) || !check.roles.includes(context.role)) continue;
      const verdict = { ...(await this.#runOne(check, context)), check: check.name };
      verdicts.push(verdict);
      // A rejection ends the pipeline: nothing later can undo it.
      if (verdict.action === "reject" || verdict.action === "tempfail") break;
    }
    const decision = verdicts.length ? combine(verdicts) : accept;
    if (decision.action !== "accept") {
      log.info("policy", {
        stage: context.stage,
        ip: context.remoteAddress,
        from: context.sender,
        action: decision.action,
        check: decision.check ?? "-",
        reason: decision.reason ?? "-",
      });
    }
    return decision;
  }

  /** Runs one check, counting its verdict and its time for /metrics (issue 20, item 5). */
  async #runOne(check: PolicyCheck, context: PolicyContext): Promise<Verdict> {
    const started = performance.now();
    const verdict = await this.#attempt(check, context);
    observe("postern_policy_check_seconds", (performance.now() - started) / 1000, { check: check.name });
    count("postern_policy_verdicts_total", { check: check.name, stage: context.stage, action: verdict.action });
    return verdict;
  }

  async #attempt(check: PolicyCheck, context: PolicyContext): Promise<Verdict> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      return await Promise.race([
        check.run(context),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${check.timeoutMs} ms`)), check.timeoutMs);
        }),
      ]);
    } catch (e) {
      const reason = `${check.name} failed: ${(e as Error).message}`;
      log.warn("policy check failed", { check: check.name, error: (e as Error).message });
      count("postern_policy_check_failures_total", { check: check.name });
      return check.onFailure === "tempfail"
        ? { action: "tempfail", reason: `${check.name} is unavailable, try again later` }
        : { action: "tag", reason, headers: [`X-Postern-Scan: ${check.name} scan-failed`] };
    } finally {
      clearTimeout(timer);
    }
  }
}
