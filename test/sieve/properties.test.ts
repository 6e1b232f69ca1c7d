/**
 * Properties of the Sieve core on arbitrary and on generated near-valid scripts:
 * - compileSieve never throws, and an error's position lies inside the script;
 * - the interpreter never throws on a compiled script and stops within its step limit (plus the cost of one test).
 */
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { compileSieve, messageView, runScript } from "../../src/sieve/index.ts";
import { settings, TEST_TIMEOUT_MS } from "../fuzz/arbitraries.ts";
import { DEFAULT_MESSAGE } from "./helpers.ts";

const word = fc.constantFrom(
  "if",
  "elsif",
  "else",
  "require",
  "keep",
  "discard",
  "stop",
  "fileinto",
  "redirect",
  "set",
  "addflag",
  "vacation",
  "header",
  "address",
  "envelope",
  "allof",
  "anyof",
  "not",
  "true",
  "false",
  "size",
  "exists",
  "body",
  "string",
  "date",
  "addheader",
  "deleteheader",
  "include",
);
const tag = fc.constantFrom(":is", ":contains", ":matches", ":regex", ":count", ":value", ":over", ":under", ":copy");
const str = fc.oneof(
  fc.constantFrom('"subject"', '"*"', '"${1}"', '"a@b.c"', '"ge"', '"[(x"', '"${hex:41}"', '"\\\\"'),
  fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)),
);
const caps = '["fileinto","variables","imap4flags","vacation","body","regex","relational","envelope",' +
  '"copy","date","index","editheader","encoded-character","include"]';
const piece = fc.oneof(
  word,
  tag,
  str,
  fc.constantFrom("[", "]", "(", ")", "{", "}", ",", ";", "1K", "10", "text:\nx\n.\n", "#c\n", "/*c*/", "\n"),
  fc.constantFrom(`require ${caps};`, 'require "fileinto";'),
);
const nearValid = fc.array(piece, { maxLength: 60 }).map((p) => p.join(" "));

function insideScript(source: string, line: number, column: number): boolean {
  const lines = source.split("\n");
  return line >= 1 && line <= lines.length && column >= 1 && column <= (lines[line - 1]?.length ?? 0) + 1;
}

const view = () => messageView(DEFAULT_MESSAGE, { from: "jane@example.org", to: "bob+x@example.net" });

describe("sieve properties", () => {
  test("compileSieve never throws; error positions lie inside the script", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), nearValid), (source) => {
        const r = compileSieve(source);
        if (!r.ok) expect(insideScript(source, r.error.line, r.error.column)).toBe(true);
      }),
      settings(2),
    );
  }, TEST_TIMEOUT_MS);

  test("compiled scripts run without throwing and stop within the step limit", () => {
    let compiled = 0;
    fc.assert(
      fc.property(nearValid, fc.integer({ min: 1, max: 200 }), (source, steps) => {
        const r = compileSieve(`require ${caps};\n${source}`);
        if (!r.ok) return;
        compiled++;
        const result = runScript(r.script, view(), {}, { steps });
        // One test may overshoot by its comparisons before the check (bounded by keys × values).
        expect(result.steps).toBeLessThanOrEqual(steps + 1000);
        if (result.error === null) expect(result.steps).toBeLessThanOrEqual(steps);
        expect(result.actions.length).toBeGreaterThan(0);
      }),
      settings(4),
    );
    expect(compiled).toBeGreaterThan(0);
  }, TEST_TIMEOUT_MS);

  test("generated valid scripts always end in at least one action", () => {
    const cond = fc.constantFrom(
      'header :contains "subject" "hello"',
      'address :domain "from" "example.org"',
      "size :over 10",
      'exists "x"',
      "true",
      'not header :matches "to" "*@*"',
    );
    const action = fc.constantFrom('fileinto "A";', "keep;", "discard;", 'addflag "x";', 'redirect :copy "a@b.c";');
    const cmd: fc.Arbitrary<string> = fc.letrec<{ cmd: string }>((tie) => ({
      cmd: fc.oneof(
        { depthSize: "small", withCrossShrink: true },
        action,
        fc.tuple(cond, fc.array(tie("cmd"), { maxLength: 3 })).map(([c, body]) => `if ${c} { ${body.join(" ")} }`),
      ),
    })).cmd;
    fc.assert(
      fc.property(fc.array(cmd, { maxLength: 6 }), (cmds) => {
        const r = compileSieve(`require ${caps};\n${cmds.join("\n")}`);
        expect(r.ok ? "" : r.error.message).toBe("");
        if (!r.ok) return;
        const result = runScript(r.script, view());
        expect(result.error).toBeNull();
        expect(result.actions.length).toBeGreaterThan(0);
      }),
      settings(),
    );
  }, TEST_TIMEOUT_MS);
});
