/** Limits on script size, nesting, actions, redirects and interpreter steps (issue 21). */
import { describe, expect, test } from "bun:test";
import { compileSieve } from "../../src/sieve/index.ts";
import { run, summary } from "./helpers.ts";

describe("limits", () => {
  test("script size", () => {
    const r = compileSieve(`# ${"x".repeat(100)}\nkeep;`, { limits: { scriptSize: 64 } });
    expect(r.ok ? "" : r.error.message).toBe("line 1, column 1: script is larger than 64 bytes");
  });

  test("nesting of blocks and of tests", () => {
    const blocks = `${"if true {".repeat(5)}keep;${"}".repeat(5)}`;
    expect(compileSieve(blocks, { limits: { nesting: 5 } }).ok).toBe(true);
    // Blocks and tests count together: the fifth "if" test sits at depth 5.
    const deeper = compileSieve(blocks, { limits: { nesting: 4 } });
    expect(deeper.ok ? "" : deeper.error.message).toBe("line 1, column 40: tests are nested deeper than 4");
    const tests = `if ${"not ".repeat(40)}true { keep; }`;
    const r = compileSieve(tests);
    expect(r.ok ? "" : r.error.message).toBe("line 1, column 132: tests are nested deeper than 32");
    // Deep input fails cleanly rather than overflowing the stack.
    const huge = compileSieve(`if ${"anyof(".repeat(100_000)}`);
    expect(huge.ok).toBe(false);
  });

  test("actions and redirects", () => {
    const files = Array.from({ length: 5 }, (_, i) => `fileinto "f${i}";`).join("");
    const r = run(`require "fileinto"; ${files}`, { limits: { actions: 4 } });
    expect(r.error?.detail).toBe("more than 4 actions");
    expect(summary(r)).toEqual(["implicit keep"]);
    const redirects = Array.from({ length: 5 }, (_, i) => `redirect "r${i}@example.net";`).join("");
    expect(run(redirects).error?.detail).toBe("more than 4 redirects");
  });

  test(":matches runs in time proportional to value × pattern, whatever the stars", () => {
    const long = "a".repeat(20_000);
    const raw = new TextEncoder().encode(`Subject: ${long}\r\n\r\n`);
    const started = performance.now();
    const r = run(`if header :matches "subject" "*a*a*a*a*a*a*a*a*b" { discard; }`, { raw });
    expect(summary(r)).toEqual(["implicit keep"]);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  test("steps: an expensive script is stopped and the message kept", () => {
    const keys = JSON.stringify(Array.from({ length: 2000 }, (_, i) => `*${i}*x*`));
    const script = `if header :matches ["from", "to", "subject", "date", "message-id"] ${keys} { discard; }`;
    const r = run(script, { limits: { steps: 5000 } });
    expect(r.error?.detail).toBe("script exceeded its limit of 5000 steps");
    expect(summary(r)).toEqual(["implicit keep"]);
    expect(run(script).error).toBeNull();
  });
});
