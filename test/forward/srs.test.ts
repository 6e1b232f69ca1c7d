import { describe, expect, test } from "bun:test";
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
});
