/** The state of one run: variables, flags, headers as edited so far, actions, and the step budget. */
import type { SieveAction } from "./actions.ts";
import type { Argument } from "./ast.ts";
import type { SieveEnvironment } from "./environment.ts";
import { type Position, SieveRuntimeError } from "./errors.ts";
import type { SieveLimits } from "./limits.ts";
import type { Matcher } from "./match.ts";
import type { SieveHeader, SieveMessage } from "./message.ts";
import type { Node } from "./validate.ts";
import { expand, truncate, type VariableStore } from "./variables.ts";

/** Thrown inside the interpreter to end the run with a run-time error; caught by `runScript`. */
export class RuntimeFailure {
  constructor(readonly error: SieveRuntimeError) {}
}

export class RunState {
  steps = 0;
  actions: SieveAction[] = [];
  implicitKeep = true;
  /** RFC 5232 §3: the internal flags variable, normalized (one entry per flag, first spelling kept). */
  flags: string[] = [];
  headers: SieveHeader[];
  readonly globals = new Map<string, string>();
  readonly included = new Set<string>();
  /** Values seen by duplicate tests, recorded only if the run ends without error (RFC 7352 §3.1). */
  readonly duplicates: string[] = [];

  constructor(
    readonly message: SieveMessage,
    readonly env: SieveEnvironment,
    readonly limits: SieveLimits,
  ) {
    this.headers = [...message.headers];
  }

  step(pos: Position, n = 1): void {
    this.steps += n;
    if (this.steps > this.limits.steps) this.fail(pos, `script exceeded its limit of ${this.limits.steps} steps`);
  }

  fail(pos: Position, detail: string): never {
    throw new RuntimeFailure(new SieveRuntimeError(pos, detail));
  }
}

/** Per-script view: the script's capabilities and its variables (RFC 6609 §3.5: local unless declared global). */
export class Scope implements VariableStore {
  matches: string[] = [];
  private readonly locals = new Map<string, string>();
  readonly globalNames = new Set<string>();

  constructor(readonly run: RunState, readonly capabilities: Set<string>) {}

  private isGlobal(name: string): boolean {
    return this.globalNames.has(name) || name.startsWith("global.");
  }

  get(name: string): string | undefined {
    const key = name.startsWith("global.") ? name.slice(7) : name;
    return this.isGlobal(name) ? this.run.globals.get(key) : this.locals.get(name);
  }

  set(name: string, value: string): void {
    const v = truncate(value, this.run.limits.variableSize);
    const lower = name.toLowerCase();
    if (this.isGlobal(lower)) this.run.globals.set(lower.startsWith("global.") ? lower.slice(7) : lower, v);
    else this.locals.set(lower, v);
  }

  /** A string argument with variables expanded (RFC 5229 §3, only when "variables" is required). */
  str(a: Argument | true | undefined): string {
    if (!a || a === true || a.type !== "strings") return "";
    const s = a.values[0] ?? "";
    return this.capabilities.has("variables") ? expand(s, this) : s;
  }

  strs(a: Argument | true | undefined): string[] {
    if (!a || a === true || a.type !== "strings") return [];
    return this.capabilities.has("variables") ? a.values.map((s) => expand(s, this)) : a.values;
  }

  num(a: Argument | true | undefined): number {
    return a && a !== true && a.type === "number" ? a.value : 0;
  }

  /** The comparator and match type of a test (RFC 5228 §2.7: defaults i;ascii-casemap and :is). */
  matcher(n: Node): Matcher {
    const comparator = n.tags.comparator ? this.str(n.tags.comparator).toLowerCase() : "i;ascii-casemap";
    for (const kind of ["contains", "matches", "regex"] as const) {
      if (n.tags[kind]) return { comparator, type: { kind } };
    }
    for (const kind of ["count", "value"] as const) {
      if (n.tags[kind]) return { comparator, type: { kind, relation: this.str(n.tags[kind]).toLowerCase() } };
    }
    return { comparator, type: { kind: "is" } };
  }
}
