/**
 * Runs a validated script against a message view and returns its actions (RFC 5228 §2.10): control commands,
 * actions, imap4flags, variables, editheader and include. Never does I/O; bounded by the step limit.
 */
import { addAction, type SieveAction } from "./actions.ts";
import type { SieveEnvironment } from "./environment.ts";
import type { SieveRuntimeError } from "./errors.ts";
import { flagList, removeFlags } from "./flags.ts";
import { DEFAULT_LIMITS, type SieveLimits } from "./limits.ts";
import { matchValues } from "./match.ts";
import type { SieveHeader, SieveMessage } from "./message.ts";
import { RunState, RuntimeFailure, Scope } from "./state.ts";
import { evaluateTest } from "./tests.ts";
import { type Node, REDIRECT_ADDRESS, type ValidScript } from "./validate.ts";
import { applyModifiers } from "./variables.ts";

export interface SieveResult {
  /** What to do, in script order; the implicit keep, when it applies, is the last (a keep with `implicit`). */
  actions: SieveAction[];
  /** Set when the run failed: the actions are then only the implicit keep (RFC 5228 §2.10.6). */
  error: SieveRuntimeError | null;
  /** RFC 7352: duplicate ids to record now that the run succeeded. */
  duplicates: string[];
  /** RFC 5293: the header fields as editheader left them (unchanged fields are the message's own objects); null if
   * the script edited none. */
  headers: SieveHeader[] | null;
  steps: number;
}

class StopSignal {}
class ReturnSignal {}

export function runScript(
  script: ValidScript,
  message: SieveMessage,
  env: SieveEnvironment = {},
  limits: Partial<SieveLimits> = {},
): SieveResult {
  const run = new RunState(message, env, { ...DEFAULT_LIMITS, ...limits });
  try {
    execute(script.commands, new Scope(run, script.capabilities), 0);
  } catch (e) {
    if (e instanceof RuntimeFailure) {
      return {
        actions: [{ type: "keep", flags: [], implicit: true }],
        error: e.error,
        duplicates: [],
        headers: null,
        steps: run.steps,
      };
    }
    if (!(e instanceof StopSignal)) throw e;
  }
  const actions = [...run.actions];
  if (run.implicitKeep) {
    const explicit = actions.find((a) => a.type === "keep");
    if (!explicit) actions.push({ type: "keep", flags: [...run.flags], implicit: true });
  }
  const edited = actions.some((a) => a.type === "addheader" || a.type === "deleteheader");
  return { actions, error: null, duplicates: run.duplicates, headers: edited ? run.headers : null, steps: run.steps };
}

function execute(commands: Node[], s: Scope, depth: number): void {
  let taken = false;
  for (const c of commands) {
    s.run.step(c.pos);
    switch (c.name) {
      case "require":
        break;
      case "if":
        taken = evaluateTest(c.tests[0]!, s);
        if (taken) execute(c.block!, s, depth);
        break;
      case "elsif":
        if (!taken) {
          taken = evaluateTest(c.tests[0]!, s);
          if (taken) execute(c.block!, s, depth);
        }
        break;
      case "else":
        if (!taken) execute(c.block!, s, depth);
        break;
      case "stop":
        throw new StopSignal();
      case "return":
        throw new ReturnSignal();
      case "include":
        include(c, s, depth);
        break;
      case "global":
        for (const name of s.strs(c.args[0])) s.globalNames.add(name.toLowerCase());
        break;
      default:
        action(c, s);
    }
  }
}

function action(c: Node, s: Scope): void {
  const run = s.run;
  const flagsOf = () => (c.tags.flags ? flagList(s.strs(c.tags.flags)) : [...run.flags]);
  switch (c.name) {
    case "keep":
      addAction(run, c.pos, { type: "keep", flags: flagsOf(), implicit: false });
      run.implicitKeep = false;
      return;
    case "discard":
      addAction(run, c.pos, { type: "discard" });
      run.implicitKeep = false;
      return;
    case "fileinto": {
      const mailbox = s.str(c.args[0]);
      const copy = Boolean(c.tags.copy);
      addAction(run, c.pos, { type: "fileinto", mailbox, flags: flagsOf(), copy, create: Boolean(c.tags.create) });
      if (!copy) run.implicitKeep = false;
      return;
    }
    case "redirect": {
      const address = s.str(c.args[0]);
      if (!REDIRECT_ADDRESS.test(address)) run.fail(c.pos, `invalid redirect address '${address}'`);
      addAction(run, c.pos, { type: "redirect", address, copy: Boolean(c.tags.copy) });
      if (!c.tags.copy) run.implicitKeep = false;
      return;
    }
    case "reject":
    case "ereject":
      addAction(run, c.pos, { type: "reject", reason: s.str(c.args[0]), extended: c.name === "ereject" });
      run.implicitKeep = false;
      return;
    case "setflag":
    case "addflag":
    case "removeflag":
      return flags(c, s);
    case "set": {
      const modifiers = Object.keys(c.tags);
      s.set(s.str(c.args[0]), applyModifiers(s.str(c.args[1]), modifiers));
      return;
    }
    case "vacation":
      return vacation(c, s);
    case "addheader": {
      const name = s.str(c.args[0]);
      const value = s.str(c.args[1]);
      const last = Boolean(c.tags.last);
      // RFC 5293 §4: a name built from variables must still be a field name (RFC 5322 §3.6.8).
      if (!/^[\x21-\x39\x3b-\x7e]+$/.test(name)) run.fail(c.pos, `invalid header name '${name}'`);
      addAction(run, c.pos, { type: "addheader", name, value, last });
      if (last) run.headers.push({ name, value });
      else run.headers.unshift({ name, value });
      return;
    }
    case "deleteheader":
      return deleteHeader(c, s);
    default:
      run.fail(c.pos, `command '${c.name}' is not implemented`);
  }
}

/** RFC 5232 §3: set/add/remove on the internal variable or on a named one. */
function flags(c: Node, s: Scope): void {
  const list = s.strs(c.args[c.args.length - 1]);
  const varName = c.args.length === 2 ? s.str(c.args[0]).toLowerCase() : null;
  const current = varName === null ? s.run.flags : flagList([s.get(varName) ?? ""]);
  let next: string[];
  if (c.name === "setflag") next = flagList(list);
  else if (c.name === "addflag") next = flagList([...current, ...list]);
  else next = removeFlags(current, list);
  if (varName === null) s.run.flags = next;
  else s.set(varName, next.join(" "));
}

/** RFC 5230 §4: the reply itself is sent by the caller, which applies the RFC 3834 rules and the period. */
function vacation(c: Node, s: Scope): void {
  const reason = s.str(c.args[0]);
  // RFC 5230 §4.1: :days 0 means the shortest period the site allows; RFC 6131 :seconds likewise.
  const asked = c.tags.seconds ? s.num(c.tags.seconds) : (c.tags.days ? s.num(c.tags.days) : 7) * 86_400;
  const seconds = Math.max(asked, s.run.limits.vacationMinPeriod);
  const subject = c.tags.subject ? s.str(c.tags.subject) : null;
  const from = c.tags.from ? s.str(c.tags.from) : null;
  // RFC 5230 §4.2: without :handle, the arguments identify the reply.
  const handle = c.tags.handle
    ? s.str(c.tags.handle)
    : [reason, subject ?? "", from ?? "", c.tags.mime ? "mime" : ""].join("\u0000");
  const action: SieveAction = {
    type: "vacation",
    reason,
    subject,
    from,
    addresses: s.strs(c.tags.addresses),
    mime: Boolean(c.tags.mime),
    handle,
    seconds,
  };
  addAction(s.run, c.pos, action);
}

/** RFC 5293 §5: deletes the named fields (the :index one, or those whose value matches). */
function deleteHeader(c: Node, s: Scope): void {
  const run = s.run;
  const name = s.str(c.args[0]);
  const values = c.args.length === 2 ? s.strs(c.args[1]) : [];
  const index = c.tags.index ? s.num(c.tags.index) : null;
  const last = Boolean(c.tags.last);
  // RFC 5293 §6: Received and Auto-Submitted must not be deleted.
  if (["received", "auto-submitted"].includes(name.toLowerCase())) return;
  const positions = run.headers.flatMap((f, i) => (f.name.toLowerCase() === name.toLowerCase() ? [i] : []));
  let picked = positions;
  if (index !== null) {
    const at = last ? positions[positions.length - index] : positions[index - 1];
    picked = at === undefined ? [] : [at];
  }
  if (values.length > 0) {
    const m = s.matcher(c);
    picked = picked.filter((i) => matchValues(m, [run.headers[i]!.value], values).matched);
  }
  if (picked.length === 0) return;
  addAction(run, c.pos, { type: "deleteheader", name, index, last, values });
  const gone = new Set(picked);
  run.headers = run.headers.filter((_, i) => !gone.has(i));
}

/** RFC 6609 §3.2: runs another script; its `return` ends only it, `stop` ends the whole run. */
function include(c: Node, s: Scope, depth: number): void {
  const run = s.run;
  const name = s.str(c.args[0]);
  const location = c.tags.global ? "global" : "personal";
  const key = `${location}:${name}`;
  if (c.tags.once && run.included.has(key)) return;
  if (depth + 1 > run.limits.includeDepth) {
    run.fail(c.pos, `includes are nested deeper than ${run.limits.includeDepth}`);
  }
  const script = run.env.include?.(name, location) ?? null;
  if (!script) {
    if (c.tags.optional) return;
    return run.fail(c.pos, `included script '${name}' does not exist`);
  }
  run.included.add(key);
  try {
    execute(script.commands, new Scope(run, script.capabilities), depth + 1);
  } catch (e) {
    if (!(e instanceof ReturnSignal)) throw e;
  }
}
