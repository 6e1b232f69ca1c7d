/**
 * Cross-check against the reference implementation (issue 21): every script of test/sieve/corpus/scripts is run on
 * every message of test/sieve/corpus/messages by Postern — in this process (Bun) and under Deno — and by
 * Pigeonhole's `sieve-test`, and the normalized actions must be equal (or both must refuse the script). Skips with a
 * message when sieve-test is missing (Debian: dovecot-sieve). The table of what is compared is in docs/sieve.md.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { type Case, outcomesOnDeno, posternOutcome } from "./outcomes.ts";
import { type Outcome, pigeonholeWorkdir, runPigeonhole, sieveTestPath } from "./pigeonhole.ts";

const corpus = join(import.meta.dir, "corpus");
const scripts = readdirSync(join(corpus, "scripts")).filter((f) => f.endsWith(".sieve")).sort();
const messages = readdirSync(join(corpus, "messages")).filter((f) => f.endsWith(".eml")).sort();
const envelopes: Record<string, { from: string; to: string }> = JSON.parse(
  readFileSync(join(corpus, "envelopes.json"), "utf8"),
);

function corpusCase(script: string, message: string): Case {
  return {
    source: readFileSync(join(corpus, "scripts", script), "utf8"),
    message: join(corpus, "messages", message),
    envelope: envelopes[message]!,
  };
}

/**
 * Pairs where Postern follows the RFC and Pigeonhole 0.5 does not; the test asserts they still differ, so a change
 * on either side is noticed. Listed in docs/sieve.md.
 */
const KNOWN_DIFFERENCES: Record<string, string> = {
  "09-relational-value.sieve list.eml":
    "RFC 4790 §9.2 orders i;ascii-casemap as upper case ('[' > 'N'); Pigeonhole folds to lower case",
  "15-set-modifiers.sieve multipart.eml": "set :upper converts every letter (JÖRG); Pigeonhole only ASCII (JöRG)",
};

const tool = sieveTestPath();
if (!tool) console.warn("SKIP test/sieve/pigeonhole.test.ts: sieve-test not found (apt-get install dovecot-sieve)");

describe.skipIf(!tool)("Postern's actions equal Pigeonhole's, on Bun and on Deno", () => {
  const dir = tool ? pigeonholeWorkdir() : "";
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // The whole corpus through the interpreter under Deno, in one process.
  const cases = scripts.flatMap((script) => messages.map((message) => corpusCase(script, message)));
  const onDeno = tool ? outcomesOnDeno(cases) : [];
  if (typeof onDeno === "string") console.warn(`SKIP the Deno half of test/sieve/pigeonhole.test.ts: ${onDeno}`);
  for (const [i, script] of scripts.entries()) {
    test(script, () => {
      for (const [j, message] of messages.entries()) {
        const expected = {
          message,
          ...runPigeonhole(
            dir,
            join(corpus, "scripts", script),
            join(corpus, "messages", message),
            envelopes[message]!,
          ),
        };
        const outcomes: Array<[string, Outcome]> = [["bun", posternOutcome(corpusCase(script, message))]];
        if (typeof onDeno !== "string") outcomes.push(["deno", onDeno[i * messages.length + j]!]);
        for (const [runtime, outcome] of outcomes) {
          const ours = { runtime, message, ...outcome };
          if (KNOWN_DIFFERENCES[`${script} ${message}`]) expect(ours).not.toEqual({ runtime, ...expected });
          else expect(ours).toEqual({ runtime, ...expected });
        }
      }
    });
  }
});
