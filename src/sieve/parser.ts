/**
 * RFC 5228 §8.2 grammar, recursive descent over the lexer's tokens:
 *
 *   start = commands;  commands = *command;  command = identifier arguments (";" / block)
 *   block = "{" commands "}";  arguments = *argument [test / test-list];  argument = string-list / number / tag
 *   test = identifier arguments;  test-list = "(" test *("," test) ")";  string-list = "[" string *("," string) "]" / string
 *
 * The first error stops parsing and is returned with its line and column. Size and nesting are bounded.
 */
import type { Argument, CommandNode, TestNode } from "./ast.ts";
import { SieveError } from "./errors.ts";
import { type Token, tokenize } from "./lexer.ts";
import { DEFAULT_LIMITS, type SieveLimits } from "./limits.ts";

export type ParseResult = { ok: true; commands: CommandNode[] } | { ok: false; error: SieveError };

class Stop {
  constructor(readonly error: SieveError) {}
}

export function parseScript(source: string, limits: Partial<SieveLimits> = {}): ParseResult {
  const max = { ...DEFAULT_LIMITS, ...limits };
  if (new TextEncoder().encode(source).length > max.scriptSize) {
    return {
      ok: false,
      error: new SieveError({ line: 1, column: 1 }, `script is larger than ${max.scriptSize} bytes`),
    };
  }
  const tokens = tokenize(source);
  if (tokens instanceof SieveError) return { ok: false, error: tokens };
  const parser = new Parser(tokens, max.nesting);
  try {
    const commands = parser.commands(0);
    const end = parser.peek();
    if (end.kind !== "end") parser.fail(end, `unexpected ${describe(end)}`);
    return { ok: true, commands };
  } catch (e) {
    if (e instanceof Stop) return { ok: false, error: e.error };
    throw e;
  }
}

class Parser {
  private at = 0;
  constructor(private readonly tokens: Token[], private readonly maxNesting: number) {}

  peek(): Token {
    return this.tokens[this.at]!;
  }

  private next(): Token {
    const t = this.tokens[this.at]!;
    if (t.kind !== "end") this.at++;
    return t;
  }

  private isPunct(value: string): boolean {
    const t = this.peek();
    return t.kind === "punct" && t.value === value;
  }

  fail(token: Token, detail: string): never {
    throw new Stop(new SieveError(token.pos, detail));
  }

  commands(depth: number): CommandNode[] {
    const out: CommandNode[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === "end" || (t.kind === "punct" && t.value === "}")) return out;
      out.push(this.command(depth));
    }
  }

  private command(depth: number): CommandNode {
    const t = this.next();
    if (t.kind !== "identifier") this.fail(t, `expected a command, found ${describe(t)}`);
    const { args, tests, testList } = this.arguments(depth);
    const end = this.next();
    if (end.kind === "punct" && end.value === ";") {
      return { name: t.value, args, tests, testList, block: null, pos: t.pos };
    }
    if (end.kind === "punct" && end.value === "{") {
      if (depth + 1 > this.maxNesting) this.fail(end, `blocks are nested deeper than ${this.maxNesting}`);
      const block = this.commands(depth + 1);
      const close = this.next();
      if (close.kind !== "punct" || close.value !== "}") this.fail(close, `expected '}', found ${describe(close)}`);
      return { name: t.value, args, tests, testList, block, pos: t.pos };
    }
    return this.fail(end, `expected ';' or '{' after command '${t.value}', found ${describe(end)}`);
  }

  private arguments(depth: number): { args: Argument[]; tests: TestNode[]; testList: boolean } {
    const args: Argument[] = [];
    for (;;) {
      const t = this.peek();
      if (t.kind === "tag") {
        this.next();
        args.push({ type: "tag", name: t.value, pos: t.pos });
      } else if (t.kind === "number") {
        this.next();
        args.push({ type: "number", value: t.value, pos: t.pos });
      } else if (t.kind === "string") {
        this.next();
        args.push({ type: "strings", values: [t.value], list: false, pos: t.pos });
      } else if (t.kind === "punct" && t.value === "[") {
        args.push(this.stringList());
      } else break;
    }
    const t = this.peek();
    if (t.kind === "identifier") return { args, tests: [this.test(depth + 1)], testList: false };
    if (t.kind === "punct" && t.value === "(") return { args, tests: this.testList(depth + 1), testList: true };
    return { args, tests: [], testList: false };
  }

  private stringList(): Argument {
    const open = this.next();
    const values: string[] = [];
    for (;;) {
      const s = this.next();
      if (s.kind !== "string") this.fail(s, `expected a string in the list, found ${describe(s)}`);
      values.push(s.value);
      const sep = this.next();
      if (sep.kind === "punct" && sep.value === "]") break;
      if (sep.kind !== "punct" || sep.value !== ",") this.fail(sep, `expected ',' or ']', found ${describe(sep)}`);
    }
    return { type: "strings", values, list: true, pos: open.pos };
  }

  private testList(depth: number): TestNode[] {
    const open = this.next();
    if (depth > this.maxNesting) this.fail(open, `tests are nested deeper than ${this.maxNesting}`);
    const tests: TestNode[] = [];
    for (;;) {
      tests.push(this.test(depth));
      const sep = this.next();
      if (sep.kind === "punct" && sep.value === ")") return tests;
      if (sep.kind !== "punct" || sep.value !== ",") this.fail(sep, `expected ',' or ')', found ${describe(sep)}`);
    }
  }

  private test(depth: number): TestNode {
    const t = this.next();
    if (t.kind !== "identifier") this.fail(t, `expected a test, found ${describe(t)}`);
    if (depth > this.maxNesting) this.fail(t, `tests are nested deeper than ${this.maxNesting}`);
    const { args, tests, testList } = this.arguments(depth);
    return { name: t.value, args, tests, testList, pos: t.pos };
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "end":
      return "end of script";
    case "identifier":
      return `identifier '${t.value}'`;
    case "tag":
      return `tag ':${t.value}'`;
    case "number":
      return "number";
    case "string":
      return "string";
    case "punct":
      return `'${t.value}'`;
  }
}
