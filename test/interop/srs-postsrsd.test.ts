/**
 * SRS against postsrsd (Debian package): the same secret and domain must give the same
 * rewritten addresses, and each side must reverse the other's. Skips where postsrsd is missing.
 * The bulk cross-check with generated senders, and with Mail::SRS and pysrs, is srs-tools.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Srs } from "../../src/forward/srs.ts";
import { missing, type SrsTool, startPostsrsd } from "../helpers/srs-tools.ts";

if (missing.postsrsd) console.warn(`skipping postsrsd cross-check: ${missing.postsrsd}`);

const SECRET = "interop-secret-123";
const DOMAIN = "fwd.example";
let postsrsd: SrsTool | null = null;

beforeAll(async () => {
  postsrsd = await startPostsrsd({ secret: SECRET, domain: DOMAIN });
});
afterAll(() => postsrsd?.stop());

describe("SRS interoperability with postsrsd", () => {
  const ours = new Srs({ secret: SECRET, domain: DOMAIN });

  test.skipIf(!!missing.postsrsd)("SRS0: the same address from both, and each reverses the other's", async () => {
    const [theirs] = await postsrsd!.forward(["alice@origin.example"]);
    expect(theirs).toEqual({ ok: true, address: ours.forward("alice@origin.example") });
    expect(ours.reverse(ours.forward("alice@origin.example"))).toEqual({ ok: true, address: "alice@origin.example" });
    expect(await postsrsd!.reverse([ours.forward("bob@origin.example")])).toEqual([
      { ok: true, address: "bob@origin.example" },
    ]);
  });

  test.skipIf(!!missing.postsrsd)("SRS1 from someone else's SRS0, both ways", async () => {
    const upstream = new Srs({ secret: "upstream", domain: "first-hop.example" }).forward("carol@origin-x.example");
    expect(await postsrsd!.forward([upstream])).toEqual([{ ok: true, address: ours.forward(upstream) }]);
    expect(await postsrsd!.reverse([ours.forward(upstream)])).toEqual([{ ok: true, address: upstream }]);
  });

  test.skipIf(!!missing.postsrsd)("a hyphenated sender domain and a hash with + or / round-trip", async () => {
    // Senders until both characters of the base64 alphabet that the old parser refused appear.
    const senders = Array.from({ length: 200 }, (_, i) => `user${i}@my-domain-${i}.example`);
    const mine = senders.map((s) => ours.forward(s));
    expect(mine.some((a) => a.slice(5, 9).includes("+"))).toBe(true);
    expect(mine.some((a) => a.slice(5, 9).includes("/"))).toBe(true);
    expect(await postsrsd!.reverse(mine)).toEqual(senders.map((address) => ({ ok: true, address })));
    const theirs = await postsrsd!.forward(senders);
    expect(theirs.map((r) => (r.ok ? ours.reverse(r.address) : r))).toEqual(
      senders.map((address) => ({ ok: true, address })),
    );
  });
});
