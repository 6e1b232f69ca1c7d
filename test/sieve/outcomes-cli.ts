/**
 * Reads a JSON array of cases (outcomes.ts) on stdin and prints `{ runtime, outcomes }`: how the Pigeonhole
 * cross-check runs Postern's interpreter under Deno (`deno run --allow-read test/sieve/outcomes-cli.ts`).
 */
import { readFileSync } from "node:fs";
import { type Case, posternOutcome } from "./outcomes.ts";

const cases = JSON.parse(readFileSync(0, "utf8")) as Case[];
// The runtime says who ran the cases, so the test knows they were not run by Bun.
const runtime = "Deno" in globalThis ? "deno" : "other";
process.stdout.write(JSON.stringify({ runtime, outcomes: cases.map(posternOutcome) }));
