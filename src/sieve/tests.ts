/**
 * The test commands (RFC 5228 §5 and the extensions' tests), evaluated against the message view. A successful
 * :matches or :regex test sets the match variables (RFC 5229 §3.2).
 */
import { parseAddressList } from "../mime/address-list.ts";
import { parseDate } from "../mime/date.ts";
import { decodeEncodedWords } from "../mime/encoded-words.ts";
import { datePart, parseZone, writtenZone } from "./date.ts";
import { flagList } from "./flags.ts";
import { type Matcher, matchValues, supports } from "./match.ts";
import type { BodyTransform } from "./message.ts";
import type { Scope } from "./state.ts";
import type { Node } from "./validate.ts";

export function evaluateTest(n: Node, s: Scope): boolean {
  s.run.step(n.pos);
  switch (n.name) {
    case "true":
      return true;
    case "false":
      return false;
    case "not":
      return !evaluateTest(n.tests[0]!, s);
    case "allof":
      return n.tests.every((t) => evaluateTest(t, s));
    case "anyof":
      return n.tests.some((t) => evaluateTest(t, s));
    case "size":
      return n.tags.over ? s.run.message.size > s.num(n.args[0]) : s.run.message.size < s.num(n.args[0]);
    case "exists": {
      const names = s.strs(n.args[0]).map((h) => h.toLowerCase());
      return names.every((h) => s.run.headers.some((f) => f.name.toLowerCase() === h));
    }
    case "header":
      return match(n, s, fieldValues(n, s, s.strs(n.args[0])).map((v) => decodeEncodedWords(v)), n.args[1]);
    case "address":
      return match(n, s, addressParts(n, s, fieldValues(n, s, s.strs(n.args[0]))), n.args[1]);
    case "envelope":
      return match(n, s, envelopeValues(n, s), n.args[1]);
    case "body":
      // RFC 5173 §6: the body test does not set match variables.
      return match(n, s, s.run.message.body(bodyTransform(n, s)), n.args[0], false);
    case "string":
      // RFC 5229 §5: empty source strings are not counted by :count.
      return match(n, s, s.strs(n.args[0]).filter((v) => !n.tags.count || v !== ""), n.args[1]);
    case "hasflag":
      return match(n, s, hasflagValues(n, s), n.args[n.args.length - 1]);
    case "date":
      return match(n, s, dateValues(n, s), n.args[2]);
    case "currentdate": {
      const zone = n.tags.zone ? parseZone(s.str(n.tags.zone)) : (s.run.env.zoneOffset ?? 0);
      const part = s.str(n.args[0]).toLowerCase();
      return match(n, s, [datePart(s.run.env.now ?? Date.now(), zone ?? 0, part)], n.args[1]);
    }
    case "mailboxexists":
      return s.strs(n.args[0]).every((m) => s.run.env.mailboxExists?.(m) ?? false);
    case "spamtest": {
      const spam = s.run.env.spam;
      const value = n.tags.percent ? (spam ? spam.percent : 0) : (spam ? spam.score : 0);
      return match(n, s, [String(value)], n.args[0]);
    }
    case "virustest":
      return match(n, s, [String(s.run.env.virus ?? 0)], n.args[0]);
    case "environment": {
      const value = s.run.env.items?.[s.str(n.args[0]).toLowerCase()];
      return value !== undefined && match(n, s, [value], n.args[1]);
    }
    case "duplicate":
      return duplicate(n, s);
    default:
      return s.run.fail(n.pos, `test '${n.name}' is not implemented`);
  }
}

function match(
  n: Node,
  s: Scope,
  values: string[],
  keysArg: Node["args"][number] | undefined,
  setsMatchVariables = true,
): boolean {
  const m: Matcher = s.matcher(n);
  if (!supports(m.comparator, m.type.kind)) {
    s.run.fail(n.pos, `comparator '${m.comparator}' does not support :${m.type.kind}`);
  }
  const keys = s.strs(keysArg);
  const result = matchValues(m, values, keys);
  s.run.step(n.pos, result.steps);
  if (result.matched && result.captures && setsMatchVariables && s.capabilities.has("variables")) {
    s.matches = result.captures;
  }
  return result.matched;
}

/** The values of the named header fields, or only the one picked by :index [:last] (RFC 5260 §6). */
function fieldValues(n: Node, s: Scope, names: string[]): string[] {
  const wanted = new Set(names.map((h) => h.toLowerCase()));
  const values = s.run.headers.filter((f) => wanted.has(f.name.toLowerCase())).map((f) => f.value);
  if (!n.tags.index) return values;
  const i = s.num(n.tags.index);
  const v = n.tags.last ? values[values.length - i] : values[i - 1];
  return v === undefined ? [] : [v];
}

/** RFC 5228 §2.7.4 address parts of every address in the fields, RFC 5233 :user and :detail. */
function addressParts(n: Node, s: Scope, values: string[]): string[] {
  const out: string[] = [];
  for (const value of values) {
    for (const entry of parseAddressList(value, { decode: false })) {
      const list = "group" in entry ? entry.addresses : [entry];
      for (const a of list) {
        const part = addressPart(n, s, a.address);
        if (part !== null) out.push(part);
      }
    }
  }
  return out;
}

function addressPart(n: Node, s: Scope, address: string): string | null {
  const at = address.lastIndexOf("@");
  const local = at === -1 ? address : address.slice(0, at);
  if (n.tags.domain) return at === -1 ? "" : address.slice(at + 1);
  if (n.tags.localpart) return local;
  if (n.tags.user || n.tags.detail) {
    const sep = s.run.env.separator ?? "+";
    // An empty separator (delivery.recipientDelimiter "") turns subaddresses off.
    const i = sep === "" ? -1 : local.indexOf(sep);
    if (n.tags.user) return i === -1 ? local : local.slice(0, i);
    return i === -1 ? null : local.slice(i + sep.length);
  }
  return address;
}

/** RFC 5228 §5.4: the null reverse-path matches as "" whatever the address part. */
function envelopeValues(n: Node, s: Scope): string[] {
  const env = s.run.message.envelope;
  const out: string[] = [];
  for (const part of s.strs(n.args[0]).map((p) => p.toLowerCase())) {
    const value = part === "from" ? env.from : part === "to" ? env.to : part === "auth" ? env.auth : null;
    if (value === null || value === undefined) continue;
    if (value === "") out.push("");
    else {
      const v = addressPart(n, s, value);
      if (v !== null) out.push(v);
    }
  }
  return out;
}

function bodyTransform(n: Node, s: Scope): BodyTransform {
  if (n.tags.raw) return { kind: "raw" };
  if (n.tags.content) return { kind: "content", types: s.strs(n.tags.content) };
  return { kind: "text" };
}

/** RFC 5232 §4: hasflag with variable names tests their flags, else the internal variable. */
function hasflagValues(n: Node, s: Scope): string[] {
  if (n.args.length === 1) return s.run.flags;
  return s.strs(n.args[0]).flatMap((name) => flagList([s.get(name.toLowerCase()) ?? ""]));
}

/** RFC 5260 §4: the date part of each date in the header, seen in :zone, :originalzone or the local zone. */
function dateValues(n: Node, s: Scope): string[] {
  const part = s.str(n.args[1]).toLowerCase();
  const out: string[] = [];
  const name = s.str(n.args[0]).toLowerCase();
  for (const field of fieldValues(n, s, [name])) {
    // RFC 5260 §4.1: in Received, the date-time follows the last ";".
    const value = name === "received" ? field.slice(field.lastIndexOf(";") + 1) : field;
    const ms = parseDate(value);
    if (ms === null) continue;
    let zone = s.run.env.zoneOffset ?? 0;
    if (n.tags.zone) zone = parseZone(s.str(n.tags.zone)) ?? zone;
    else if (n.tags.originalzone) zone = writtenZone(value) ?? 0;
    out.push(datePart(ms, zone, part));
  }
  return out;
}

/** RFC 7352 §3: the id is the Message-ID (or :header, or :uniqueid), tracked per :handle. */
function duplicate(n: Node, s: Scope): boolean {
  let id: string | null;
  if (n.tags.uniqueid) id = s.str(n.tags.uniqueid);
  else {
    const name = n.tags.header ? s.str(n.tags.header) : "message-id";
    const field = s.run.headers.find((f) => f.name.toLowerCase() === name.toLowerCase());
    id = field ? field.value.trim() : null;
  }
  if (id === null) return false;
  const key = `${s.str(n.tags.handle)}\u0000${id}`;
  const seconds = n.tags.seconds ? s.num(n.tags.seconds) : 7 * 86_400;
  const seen = s.run.duplicates.includes(key) || (s.run.env.duplicate?.(key, seconds) ?? false);
  if (!s.run.duplicates.includes(key)) s.run.duplicates.push(key);
  return seen;
}
