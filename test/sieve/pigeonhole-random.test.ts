/**
 * Random scripts (test/sieve/random-scripts.ts, a fixed seed) run on every corpus message by Postern (on Bun, and
 * under Deno through outcomes-cli.ts) and by Pigeonhole's `sieve-test`: the normalized actions must be equal.
 * POSTERN_SIEVE_RANDOM_SCRIPTS sets how many (default 40), POSTERN_SIEVE_RANDOM_SEED the seed. Skips with a message
 * when sieve-test is missing.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { outcomesOnDeno, posternOutcome } from "./outcomes.ts";
import { type Outcome, pigeonholeWorkdir, runPigeonhole, sieveTestPath } from "./pigeonhole.ts";
import { randomScript } from "./random-scripts.ts";

const corpus = join(import.meta.dir, "corpus");
const messages = readdirSync(join(corpus, "messages")).filter((f) => f.endsWith(".eml")).sort();
const envelopes: Record<string, { from: string; to: string }> = JSON.parse(
  readFileSync(join(corpus, "envelopes.json"), "utf8"),
);
const count = Number(process.env.POSTERN_SIEVE_RANDOM_SCRIPTS ?? 40);
const seed = Number(process.env.POSTERN_SIEVE_RANDOM_SEED ?? 21);

const tool = sieveTestPath();
if (!tool) {
  console.warn("SKIP test/sieve/pigeonhole-random.test.ts: sieve-test not found (apt-get install dovecot-sieve)");
}

describe.skipIf(!tool)("random scripts: Postern's actions equal Pigeonhole's", () => {
  const dir = tool ? pigeonholeWorkdir() : "";
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test(`${count} scripts, seed ${seed}, on Bun and on Deno`, () => {
    const sources = fc.sample(randomScript, { numRuns: count, seed });
    const cases = sources.flatMap((source) =>
      messages.map((message) => ({ source, message: join(corpus, "messages", message), envelope: envelopes[message]! }))
    );
    // The interpreter under Deno, all cases in one process (outcomes-cli.ts).
    const onDeno = outcomesOnDeno(cases);
    if (typeof onDeno === "string") console.warn(`SKIP the Deno half of the random scripts: ${onDeno}`);
    const differences: string[] = [];
    for (const [n, source] of sources.entries()) {
      const file = join(dir, `random-${n}.sieve`);
      writeFileSync(file, source);
      for (const [m, message] of messages.entries()) {
        const k = n * messages.length + m;
        const theirs = runPigeonhole(dir, file, cases[k]!.message, envelopes[message]!);
        const ours: Array<[string, Outcome]> = [["bun", posternOutcome(cases[k]!)]];
        if (typeof onDeno !== "string") ours.push(["deno", onDeno[k]!]);
        for (const [runtime, outcome] of ours) {
          if (JSON.stringify(outcome) !== JSON.stringify(theirs)) {
            differences.push(
              `${message} on ${runtime}\n${source}ours:   ${JSON.stringify(outcome)}\ntheirs: ${
                JSON.stringify(theirs)
              }`,
            );
          }
        }
      }
    }
    expect(differences).toEqual([]);
  }, 300_000);
});
