/** A process's resident memory, for the memory-bound tests (Linux /proc). */
import { readFileSync } from "node:fs";

export function rssMiB(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0);
  return kb / 1024;
}

/** Samples `pid`'s RSS every 50 ms while `work` runs: its result, and the peak growth over the RSS before it. */
export async function measuredRss<T>(pid: number, work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const baseline = rssMiB(pid);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 50);
  try {
    const result = await work();
    return { result, growth: Math.max(peak, rssMiB(pid)) - baseline };
  } finally {
    clearInterval(sampler);
  }
}
