/**
 * Checks a parsed script against the commands, tests, tags and arguments that its `require` lines enable
 * (RFC 5228 §2.10.5, §3.2), and turns each node into a `Node` whose tags are looked up by name. The first error is
 * returned with its position.
 */
import type { Argument, CommandNode, TestNode } from "./ast.ts";
import { decodeEncodedCharacters } from "./encoded-character.ts";
import { type Position, SieveError } from "./errors.ts";
import { COMPARATORS, RELATIONS, supports, unsafeRegex } from "./match.ts";
import { type ArgType, CAPABILITIES, IMPLIES, type Signature, SIGNATURES } from "./signatures.ts";
import { DATE_PARTS } from "./date.ts";

export interface Node {
  name: string;
  /** Tagged arguments by name (without ':'); a tag without argument maps to true. */
  tags: Record<string, Argument | true>;
  /** Positional arguments in order. */
  args: Argument[];
  tests: Node[];
  block: Node[] | null;
  pos: Position;
}

export interface ValidScript {
  commands: Node[];
  capabilities: Set<string>;
}

export type ValidateResult = { ok: true; script: ValidScript } | { ok: false; error: SieveError };

class Stop {
  constructor(readonly error: SieveError) {}
}
const fail = (pos: Position, detail: string): never => {
  throw new Stop(new SieveError(pos, detail));
};

/** Validates parsed commands; `extensions` limits the capabilities a script may require (default: all). */
export function validateScript(commands: CommandNode[], extensions: readonly string[] = CAPABILITIES): ValidateResult {
  try {
    const capabilities = requiredCapabilities(commands, new Set(extensions));
    const encoded = capabilities.has("encoded-character");
    return { ok: true, script: { commands: block(commands, capabilities, encoded), capabilities } };
  } catch (e) {
    if (e instanceof Stop) return { ok: false, error: e.error };
    throw e;
  }
}

/** RFC 5228 §3.2: require lines come before any other command; unknown capabilities are errors. */
function requiredCapabilities(commands: CommandNode[], allowed: Set<string>): Set<string> {
  const caps = new Set(["comparator-i;octet", "comparator-i;ascii-casemap"]);
  let leading = true;
  const visit = (list: CommandNode[], top: boolean) => {
    for (const c of list) {
      if (c.name === "require") {
        if (!top || !leading) fail(c.pos, "require must come before any other command");
        const arg = c.args[0];
        if (c.args.length !== 1 || arg?.type !== "strings") fail(c.pos, "require takes a string list of capabilities");
        for (const name of (arg as { values: string[] }).values) {
          if (!allowed.has(name)) fail(arg!.pos, `unknown extension '${name}'`);
          caps.add(name);
          for (const implied of IMPLIES[name] ?? []) caps.add(implied);
        }
      } else leading = false;
      if (c.block) visit(c.block, false);
    }
  };
  visit(commands, true);
  return caps;
}

function block(commands: CommandNode[], caps: Set<string>, encoded: boolean): Node[] {
  const out: Node[] = [];
  let previous: string | null = null;
  for (const c of commands) {
    if ((c.name === "elsif" || c.name === "else") && previous !== "if" && previous !== "elsif") {
      fail(c.pos, `${c.name} must follow if or elsif`);
    }
    const node = checkNode(c, "command", caps, encoded);
    node.block = c.block ? block(c.block, caps, encoded) : null;
    out.push(node);
    previous = c.name;
  }
  return out;
}

function checkNode(n: TestNode | CommandNode, kind: "command" | "test", caps: Set<string>, encoded: boolean): Node {
  const sig: Signature | undefined = SIGNATURES[n.name];
  if (!sig || sig.kind !== kind) return fail(n.pos, `unknown ${kind} '${n.name}'`);
  if (sig.ext && !caps.has(sig.ext)) fail(n.pos, `${kind} '${n.name}' requires the '${sig.ext}' extension`);
  const tags: Record<string, Argument | true> = {};
  const groups = new Map<string, string>();
  const args: Argument[] = [];
  for (let i = 0; i < n.args.length; i++) {
    let a = n.args[i]!;
    if (a.type === "strings" && encoded) a = { ...a, values: a.values.map(decodeEncodedCharacters) };
    if (a.type !== "tag") {
      args.push(a);
      continue;
    }
    // RFC 5228 §2.6.2: tagged arguments come before the positional ones.
    if (args.length > 0) fail(a.pos, `tag ':${a.name}' must come before the positional arguments of '${n.name}'`);
    const spec = sig.tags?.[a.name];
    if (!spec) return fail(a.pos, `unknown tag ':${a.name}' for ${kind} '${n.name}'`);
    if (spec.ext && !caps.has(spec.ext)) fail(a.pos, `tag ':${a.name}' requires the '${spec.ext}' extension`);
    if (a.name in tags) fail(a.pos, `tag ':${a.name}' is given twice`);
    if (spec.group) {
      const other = groups.get(spec.group);
      if (other) fail(a.pos, `tags ':${other}' and ':${a.name}' cannot be used together`);
      groups.set(spec.group, a.name);
    }
    if (!spec.arg) {
      tags[a.name] = true;
      continue;
    }
    let value = n.args[++i];
    if (!value || !fits(value, spec.arg)) return fail(a.pos, `tag ':${a.name}' needs ${article(spec.arg)} after it`);
    if (value.type === "strings" && encoded) value = { ...value, values: value.values.map(decodeEncodedCharacters) };
    tags[a.name] = value;
  }
  if (!sig.positional.some((form) => form.length === args.length && form.every((t, i) => fits(args[i]!, t)))) {
    const forms = sig.positional.map((f) => f.length === 0 ? "no arguments" : f.map(article).join(", "));
    fail(args[0]?.pos ?? n.pos, `${kind} '${n.name}' takes ${forms.join(" or ")}`);
  }
  if (sig.tests === "one" && (n.tests.length !== 1 || n.testList)) fail(n.pos, `'${n.name}' needs exactly one test`);
  if (sig.tests === "list" && !n.testList) fail(n.pos, `'${n.name}' needs a test list in parentheses`);
  if (!sig.tests && n.tests.length > 0) fail(n.tests[0]!.pos, `'${n.name}' takes no test`);
  if (kind === "command") {
    const hasBlock = (n as CommandNode).block !== null;
    if (sig.block && !hasBlock) fail(n.pos, `'${n.name}' needs a block`);
    if (!sig.block && hasBlock) fail(n.pos, `'${n.name}' takes no block`);
  }
  const node: Node = {
    name: n.name,
    tags,
    args,
    tests: n.tests.map((t) => checkNode(t, "test", caps, encoded)),
    block: null,
    pos: n.pos,
  };
  checkValues(node, caps);
  return node;
}

function fits(a: Argument, t: ArgType): boolean {
  if (t === "number") return a.type === "number";
  if (t === "string") return a.type === "strings" && !a.list;
  return a.type === "strings";
}

function article(t: ArgType): string {
  return t === "number" ? "a number" : t === "string" ? "a string" : "a string list";
}

const stringsOf = (
  a: Argument | true | undefined,
): string[] => (a && a !== true && a.type === "strings" ? a.values : []);
const hasVariables = (s: string) => s.includes("${");
export const REDIRECT_ADDRESS = /^[^@\s<>"]+@[^@\s<>]+$/;

/** Checks on argument values that the table cannot express. */
function checkValues(n: Node, caps: Set<string>): void {
  const cmp = n.tags.comparator;
  if (cmp && cmp !== true) {
    const name = stringsOf(cmp)[0]!.toLowerCase();
    if (!COMPARATORS.has(name)) fail(cmp.pos, `unknown comparator '${name}'`);
    if (!caps.has(`comparator-${name}`)) fail(cmp.pos, `comparator '${name}' requires 'comparator-${name}'`);
  }
  for (const rel of ["count", "value"] as const) {
    const t = n.tags[rel];
    if (t && t !== true && !RELATIONS.has(stringsOf(t)[0]!.toLowerCase())) {
      fail(t.pos, `':${rel}' needs one of gt, ge, lt, le, eq, ne`);
    }
  }
  if (n.tags.regex && !caps.has("variables")) {
    const keys = n.args[n.args.length - 1];
    for (const k of stringsOf(keys)) {
      try {
        new RegExp(k, "u");
      } catch {
        fail(keys!.pos, `invalid regular expression '${k}'`);
      }
      if (unsafeRegex(k)) fail(keys!.pos, `regular expression '${k}' nests quantifiers or uses back references`);
    }
  }
  const index = n.tags.index;
  if (index && index !== true && index.type === "number" && index.value < 1) {
    fail(index.pos, ":index must be 1 or more");
  }
  // RFC 5293 §4: addheader takes :last alone; elsewhere (deleteheader, RFC 5260 §7 index) it qualifies :index.
  if (n.tags.last && !n.tags.index && n.name !== "addheader") fail(n.pos, ":last needs :index");
  const matchType = ["contains", "matches", "regex"].find((t) => n.tags[t]);
  if (cmp && cmp !== true && matchType && !supports(stringsOf(cmp)[0]!.toLowerCase(), matchType as "contains")) {
    fail(cmp.pos, `comparator '${stringsOf(cmp)[0]}' does not support :${matchType}`);
  }
  switch (n.name) {
    case "redirect": {
      // RFC 5228 §4.2: the address must be a valid RFC 5322 address (checked here when it holds no variable).
      const address = stringsOf(n.args[0])[0]!;
      if (!(caps.has("variables") && hasVariables(address)) && !REDIRECT_ADDRESS.test(address)) {
        fail(n.args[0]!.pos, `invalid redirect address '${address}'`);
      }
      break;
    }
    case "size":
      if (!n.tags.over && !n.tags.under) fail(n.pos, "size needs :over or :under");
      break;
    case "envelope":
      for (const part of stringsOf(n.args[0])) {
        if (!hasVariables(part) && !["from", "to", "auth"].includes(part.toLowerCase())) {
          fail(n.args[0]!.pos, `unknown envelope part '${part}'`);
        }
      }
      break;
    case "date":
    case "currentdate": {
      const part = n.args[n.args.length - 2]!;
      const value = stringsOf(part)[0]!;
      if (!hasVariables(value) && !DATE_PARTS.has(value.toLowerCase())) fail(part.pos, `unknown date part '${value}'`);
      break;
    }
    case "set": {
      const name = stringsOf(n.args[0])[0]!;
      if (!/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(name)) {
        fail(n.args[0]!.pos, `invalid variable name '${name}'`);
      }
      break;
    }
    case "addheader":
    case "deleteheader": {
      const name = stringsOf(n.args[0])[0]!;
      if (!hasVariables(name) && !/^[\x21-\x39\x3b-\x7e]+$/.test(name)) {
        fail(n.args[0]!.pos, `invalid header name '${name}'`);
      }
      break;
    }
  }
}
