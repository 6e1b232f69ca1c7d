/** Bounds on what a script may cost (issue 21): checked by the parser, the validator and the interpreter. */
export interface SieveLimits {
  /** Bytes of script source (UTF-8). */
  scriptSize: number;
  /** Depth of nested blocks and tests. */
  nesting: number;
  /** Actions a run may produce (keep, fileinto, redirect, ...). */
  actions: number;
  /** Redirects a run may produce. */
  redirects: number;
  /** Interpreter steps (commands, tests and match comparisons) before the run is stopped. */
  steps: number;
  /** Characters a variable may hold (RFC 5229 §3: truncated beyond). */
  variableSize: number;
  /** Nested include depth (RFC 6609). */
  includeDepth: number;
  /** RFC 5230 §4.1, RFC 6131 §2: the shortest vacation period a script may ask for, in seconds. */
  vacationMinPeriod: number;
}

export const DEFAULT_LIMITS: SieveLimits = {
  scriptSize: 1024 * 1024,
  nesting: 32,
  actions: 32,
  redirects: 4,
  steps: 100_000,
  variableSize: 4096,
  includeDepth: 10,
  vacationMinPeriod: 86_400,
};
