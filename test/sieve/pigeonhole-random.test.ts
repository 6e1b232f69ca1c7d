/**
 * Random scripts (test/sieve/random-scripts.ts, a fixed seed) run on every corpus message by Postern and by
 * Pigeonhole's `sieve-test`: the normalized actions must be equal. POSTERN_SIEVE_RANDOM_SCRIPTS sets how many
 * (default 40), POSTERN_SIEVE_RANDOM_SEED the seed. Skips with a message when sieve-test is missing.
 */
import { afterAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileSieve, messageView, runScript } from "../../src/sieve/index.ts";
import { normalizePostern, type Outcome, pigeonholeWorkdir, runPigeonhole, sieveTestPath } from "./pigeonhole.ts";
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

  test(`${count} scripts, seed ${seed}`, () => {
    const differences: string[] = [];
    for (const [n, source] of fc.sample(randomScript, { numRuns: count, seed }).entries()) {
      const file = join(dir, `random-${n}.sieve`);
      writeFileSync(file, source);
      const compiled = compileSieve(source);
      for (const message of messages) {
        const raw = new Uint8Array(readFileSync(join(corpus, "messages", message)));
        const ours: Outcome = compiled.ok
          ? normalizePostern(runScript(compiled.script, messageView(raw, envelopes[message]!), { zoneOffset: 0 }))
          : { compile: "error" };
        const theirs = runPigeonhole(dir, file, join(corpus, "messages", message), envelopes[message]!);
        if (JSON.stringify(ours) !== JSON.stringify(theirs)) {
          differences.push(`${message}\n${source}ours:   ${JSON.stringify(ours)}\ntheirs: ${JSON.stringify(theirs)}`);
        }
      }
    }
    expect(differences).toEqual([]);
  }, 300_000);
});
