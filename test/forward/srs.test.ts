import { describe, expect, test } from "bun:test";
import { createHmac } from "node:crypto";
import { Srs } from "../../src/forward/srs.ts";

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 23, 12);
const srs = (domain = "fwd.example", now = NOW) => new Srs({ secret: "tops3cret", domain, now: () => now });

describe("SRS", () => {
  test("SRS0 round trip", () => {
    const rewritten = srs().forward("alice@origin.example");
    expect(rewritten).toMatch(/^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=origin\.example=alice@fwd\.example$/);
    expect(srs().reverse(rewritten)).toEqual({ ok: true, address: "alice@origin.example" });
  });

  test("the timestamp is the day number modulo 1024 in base32", () => {
    const day = Math.floor(NOW / DAY) % 1024;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    expect(srs().forward("a@b.example").split("=")[2]).toBe(alphabet[day >> 5]! + alphabet[day & 31]!);
  });

  test("SRS1 from SRS0, and back to the first forwarder's SRS0", () => {
    const first = srs("first.example").forward("alice@origin.example");
    const second = srs("second.example").forward(first);
    expect(second.startsWith("SRS1=")).toBe(true);
    expect(second.endsWith(`=first.example=${first.slice(4, first.lastIndexOf("@"))}@second.example`)).toBe(true);
    expect(srs("second.example").reverse(second)).toEqual({ ok: true, address: first });
    // Forwarded a third time, it stays SRS1 naming the first forwarder.
    const third = srs("third.example").forward(second);
    expect(third).toMatch(/^SRS1=[^=]{4}=first\.example==/);
    expect(srs("third.example").reverse(third)).toEqual({ ok: true, address: first });
  });

  test("a forged hash is refused; an expired one is refused; a case-folded one is accepted", () => {
    const good = srs().forward("bob@origin.example");
    const forged = good.replace(/^SRS0=(....)/, "SRS0=AAAA");
    expect(srs().reverse(forged)).toEqual({ ok: false, reason: "bad-hash" });
    expect(srs("fwd.example", NOW + 22 * DAY).reverse(good)).toEqual({ ok: false, reason: "expired" });
    expect(srs("fwd.example", NOW + 20 * DAY).reverse(good)).toMatchObject({ ok: true });
    expect(srs().reverse(good.toLowerCase())).toEqual({ ok: true, address: "bob@origin.example" });
    expect(srs().reverse(good.toUpperCase())).toEqual({ ok: true, address: "BOB@ORIGIN.EXAMPLE" });
  });

  test("null sender, our own addresses and non-SRS addresses", () => {
    expect(srs().forward("")).toBe("");
    expect(srs().forward("me@fwd.example")).toBe("me@fwd.example");
    expect(srs().reverse("plain@fwd.example")).toEqual({ ok: false, reason: "not-srs" });
    expect(srs().reverse("SRS0=xx@fwd.example")).toEqual({ ok: false, reason: "malformed" });
  });

  test("a different secret does not verify", () => {
    const other = new Srs({ secret: "another", domain: "fwd.example", now: () => NOW });
    expect(other.reverse(srs().forward("carol@origin.example"))).toEqual({ ok: false, reason: "bad-hash" });
  });

  // Issue 19, bug 1: the reverse refused what libsrs2, Mail::SRS and pysrs reverse.
  test("a hash with + or / from the base64 alphabet, and a hyphenated domain, round-trip", () => {
    const senders = Array.from({ length: 200 }, (_, i) => `user-${i}@my-host-${i}.example`);
    const rewritten = senders.map((s) => srs().forward(s));
    expect(rewritten.some((a) => a.slice(5, 9).includes("+"))).toBe(true);
    expect(rewritten.some((a) => a.slice(5, 9).includes("/"))).toBe(true);
    expect(rewritten.map((a) => srs().reverse(a))).toEqual(senders.map((address) => ({ ok: true, address })));
  });

  test("SRS1 names the first hop's host, hyphens and all, when forwarded again", () => {
    const first = srs("first-hop.example").forward("dave@origin-x.example");
    const second = srs("mid-hop.example").forward(first);
    expect(second).toMatch(/^SRS1=[A-Za-z0-9+/]{4}=first-hop\.example==[^@]+@mid-hop\.example$/);
    const third = srs().forward(second);
    expect(third).toBe(`SRS1=${third.slice(5, 9)}=first-hop.example=${first.slice(4, first.indexOf("@"))}@fwd.example`);
    expect(srs().reverse(third)).toEqual({ ok: true, address: first });
    expect(srs().reverse(third.toLowerCase())).toEqual({ ok: true, address: `SRS0${first.slice(4).toLowerCase()}` });
  });

  test("an SRS0 sender with a + or - initial separator keeps it through SRS1 and back", () => {
    for (const sep of ["+", "-"]) {
      const upstream = `SRS0${sep}AbC/=ZZ=some-host.example=x=y@first-hop.example`;
      const ours = srs().forward(upstream);
      expect(ours).toMatch(new RegExp(`^SRS1=.{4}=first-hop\\.example=\\${sep}AbC/=ZZ=`));
      expect(srs().reverse(ours)).toEqual({ ok: true, address: upstream });
    }
  });

  test("a longer prefix of the HMAC is accepted, as libsrs2 does; a shorter one is not", () => {
    const good = srs().forward("erin@origin.example");
    const tt = good.split("=")[2]!;
    const hmac = createHmac("sha1", "tops3cret");
    for (const part of [tt.toLowerCase(), "origin.example", "erin"]) hmac.update(part);
    const long = `SRS0=${hmac.digest("base64").slice(0, 8)}=${tt}=origin.example=erin@fwd.example`;
    expect(srs().reverse(long)).toEqual({ ok: true, address: "erin@origin.example" });
    const short = good.replace(/^(SRS0=...)./, "$1");
    expect(srs().reverse(short)).toEqual({ ok: false, reason: "bad-hash" });
    expect(srs().reverse(good.replace(/^SRS0=....=/, "SRS0=AAAAAA="))).toEqual({ ok: false, reason: "bad-hash" });
  });

  test("a local part with = and a timestamp that is not base32", () => {
    const rewritten = srs().forward("a=b=c@x-y.example");
    expect(srs().reverse(rewritten)).toEqual({ ok: true, address: "a=b=c@x-y.example" });
    expect(srs().reverse("SRS0=abcd=1!=x.example=u@fwd.example")).toEqual({ ok: false, reason: "malformed" });
    expect(srs().reverse("SRS1=abcd=first.example@fwd.example")).toEqual({ ok: false, reason: "malformed" });
  });
});
