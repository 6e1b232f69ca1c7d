/**
 * Machine-readable results for bench/all.ts. With BENCH_JSON=1 a benchmark ends with one line
 * `BENCH {"bench": …, "rows": [{ name, value, unit, compare? }]}`; without it nothing changes.
 */

export interface BenchRow {
  name: string;
  value: number;
  unit: string;
  /** Ratio to a floor or peer measured in the same run, or a short note. */
  compare?: string;
}

export interface BenchResult {
  bench: string;
  rows: BenchRow[];
}

export const BENCH_PREFIX = "BENCH ";

/** Prints the BENCH line when BENCH_JSON=1. */
export function emit(bench: string, rows: BenchRow[]): void {
  if (process.env.BENCH_JSON === "1") console.log(BENCH_PREFIX + JSON.stringify({ bench, rows } satisfies BenchResult));
}

/** `a / b` with two decimals, for the comparison column. */
export function ratio(a: number, b: number): string {
  return (a / b).toFixed(2);
}
