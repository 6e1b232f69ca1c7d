/**
 * SRS cross-check against the reference implementations (issue 19): postsrsd (libsrs2), Mail::SRS
 * (the `srs` command) and pysrs. A few thousand generated senders — with `-`, `+`, `=`, dots and
 * mixed case, plain, SRS0 and SRS1 — are rewritten by Postern and by each tool with the same
 * secret: the rewritten addresses must agree, each tool must reverse every address Postern makes,
 * and Postern must reverse every address each tool makes, to the same original. Forged hashes and
 * expired timestamps are refused by all. Each tool's tests skip, naming it, where it is missing.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Srs } from "../../src/forward/srs.ts";
import { mailSrs, missing, pysrs, type SrsTool, startPostsrsd, type ToolResult } from "../helpers/srs-tools.ts";

const SECRET = "cross-check-Secret-42";
const DOMAIN = "fwd-relay.example";
const DAY = 86_400_000;

for (const [tool, why] of Object.entries(missing)) {
  if (why) console.warn(`skipping SRS cross-check with ${tool}: ${why}`);
}

/** mulberry32: the same senders on every run, so a failure can be reproduced. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
const random = prng(19);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function word(min: number, max: number, inner = ""): string {
  const length = min + Math.floor(random() * (max - min + 1));
  let out = pick([...ALNUM]);
  for (let i = 1; i < length; i++) out += i < length - 1 && random() < 0.25 ? pick([...inner]) : pick([...ALNUM]);
  return out;
}

function localPart(): string {
  for (;;) {
    const local = word(1, 20, "-+=_.");
    if (!/\.\./.test(local) && !/^SRS[01]/i.test(local)) return local;
  }
}

function domain(): string {
  const labels = Array.from({ length: 1 + Math.floor(random() * 3) }, () => word(1, 12, "-"));
  return `${labels.join(".")}.${pick(["example", "Example", "test", "co-op.example", "xn--bcher-kva.example"])}`;
}

interface Case {
  sender: string;
  /** Where a bounce to the forwarded address must go: the sender, or for SRS1 its first hop's SRS0. */
  origin: string;
}

/** Plain senders, SRS0 senders from other forwarders (any initial separator), and SRS1 senders. */
function generate(count: number): Case[] {
  const cases: Case[] = [];
  for (let i = 0; i < count; i++) {
    const plain = `${localPart()}@${domain()}`;
    const kind = i % 6;
    if (kind < 4) {
      cases.push({ sender: plain, origin: plain });
      continue;
    }
    const first = new Srs({ secret: "first-hop", domain: `first-${word(2, 8, "-")}.example` }).forward(plain);
    const srs0 = first.replace(/^SRS0=/, `SRS0${pick(["=", "=", "+", "-"])}`);
    if (kind === 4) {
      cases.push({ sender: srs0, origin: srs0 });
      continue;
    }
    const second = new Srs({ secret: "second-hop", domain: `mid-${word(2, 8, "-")}.example` }).forward(srs0);
    cases.push({ sender: second, origin: srs0 });
  }
  return cases;
}

const CASES = generate(3000);
const postern = new Srs({ secret: SECRET, domain: DOMAIN });
const ours = CASES.map((c) => postern.forward(c.sender));

test("the generated senders cover what the issue names", () => {
  const senders = CASES.map((c) => c.sender);
  expect(senders.filter((s) => /@[^@]*-/.test(s) && !/^SRS/.test(s)).length).toBeGreaterThan(500);
  for (const ch of ["+", "=", ".", "-"]) {
    expect(senders.filter((s) => !/^SRS/.test(s) && s.split("@")[0]!.includes(ch)).length).toBeGreaterThan(100);
  }
  expect(senders.filter((s) => s.startsWith("SRS0")).length).toBe(500);
  expect(senders.filter((s) => s.startsWith("SRS1")).length).toBe(500);
  // The hashes Postern writes use all of base64: `+` and `/` must occur.
  expect(ours.some((a) => /^SRS[01]=[^=]*\+/.test(a))).toBe(true);
  expect(ours.some((a) => /^SRS[01]=[^=]*\//.test(a))).toBe(true);
  // And Postern reverses what it makes.
  CASES.forEach((c, i) => expect(postern.reverse(ours[i]!)).toEqual({ ok: true, address: c.origin }));
});

/** A wrong hash of the same shape: one character changed to another, not merely in case. */
function forge(address: string): string {
  const m = /^(SRS[01][=+-])(.)(.*)$/s.exec(address)!;
  return `${m[1]}${m[2]!.toLowerCase() === "q" ? "Z" : "Q"}${m[3]}`;
}

function addresses(results: ToolResult[]): string[] {
  return results.map((r) => (r.ok ? r.address : `(refused: ${r.error})`));
}

const drivers: [string, () => Promise<SrsTool | null> | SrsTool | null][] = [
  ["postsrsd", () => startPostsrsd({ secret: SECRET, domain: DOMAIN })],
  ["srs (Mail::SRS)", () => mailSrs({ secret: SECRET, domain: DOMAIN })],
  ["pysrs", () => pysrs({ secret: SECRET, domain: DOMAIN })],
];
const isMissing: Record<string, string | null> = {
  "postsrsd": missing.postsrsd,
  "srs (Mail::SRS)": missing.srs,
  "pysrs": missing.pysrs,
};

for (const [name, start] of drivers) {
  describe(`SRS cross-check with ${name}`, () => {
    let tool: SrsTool | null = null;
    beforeAll(async () => {
      tool = await start();
    });
    afterAll(() => tool?.stop());
    const skip = isMissing[name] !== null;

    test.skipIf(skip)("forward: the same rewritten address for every sender", async () => {
      const theirs = await tool!.forward(CASES.map((c) => c.sender));
      expect(addresses(theirs)).toEqual(ours);
    });

    test.skipIf(skip)("every address Postern makes is reversed by the tool to the same original", async () => {
      const back = await tool!.reverse(ours);
      expect(addresses(back)).toEqual(CASES.map((c) => c.origin));
    });

    test.skipIf(skip)("every address the tool makes is reversed by Postern to the same original", async () => {
      const theirs = addresses(await tool!.forward(CASES.map((c) => c.sender)));
      expect(theirs.map((a) => postern.reverse(a))).toEqual(CASES.map((c) => ({ ok: true, address: c.origin })));
    });

    test.skipIf(skip)("a case-smashed address is still reversed, as libsrs2 allows", async () => {
      const sample = ours.slice(0, 300);
      const lower = sample.map((a) => a.toLowerCase());
      const back = await tool!.reverse(lower);
      const expected = CASES.slice(0, 300).map((c) => c.origin.toLowerCase());
      expect(addresses(back).map((a) => a.toLowerCase())).toEqual(expected);
      const ourBack = lower.map((a) => postern.reverse(a));
      expect(ourBack.map((r) => (r.ok ? r.address.toLowerCase() : r.reason))).toEqual(expected);
    });

    test.skipIf(skip)("a forged hash and an expired timestamp are refused by the tool and by Postern", async () => {
      // Few, since the `srs` command dies at each refusal and is started again after it.
      const sample = CASES.slice(0, 24);
      const theirs = addresses(await tool!.forward(sample.map((c) => c.sender)));
      const forged = [...ours.slice(0, 12), ...theirs.slice(12)].map(forge);
      const old = new Srs({ secret: SECRET, domain: DOMAIN, now: () => Date.now() - 30 * DAY });
      const expired = sample.filter((c) => !c.sender.startsWith("SRS")).map((c) => old.forward(c.sender));
      expect(expired.length).toBe(16);

      const refused = await tool!.reverse([...forged, ...expired]);
      expect(refused.filter((r) => r.ok)).toEqual([]);
      expect(new Set(forged.map((a) => JSON.stringify(postern.reverse(a))))).toEqual(
        new Set([JSON.stringify({ ok: false, reason: "bad-hash" })]),
      );
      expect(new Set(expired.map((a) => JSON.stringify(postern.reverse(a))))).toEqual(
        new Set([JSON.stringify({ ok: false, reason: "expired" })]),
      );
    });
  });
}
