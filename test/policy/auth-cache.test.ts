/**
 * Kept sender-authentication results (src/policy/auth-cache.ts): an unsigned message from a sender seen before is
 * answered without DNS, with exactly the header fields a full check writes, for as long as the DNS answers used are
 * kept, and never when the result depends on anything else.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createResolver } from "../../src/net/dns.ts";
import { resultKey } from "../../src/policy/auth-cache.ts";
import { authenticateMessage } from "../../src/policy/mailauth.ts";
import { DnsServer } from "../helpers/dns-server.ts";

let dns: DnsServer;
let shortLived: DnsServer;

beforeAll(async () => {
  dns = await DnsServer.start({ ttl: 300, negativeTtl: 300 });
  dns.add("origin.test", { type: "TXT", text: "v=spf1 ip4:192.0.2.10 -all" });
  dns.add("_dmarc.origin.test", { type: "TXT", text: "v=DMARC1; p=reject" });
  dns.add("by-a.test", { type: "TXT", text: "v=spf1 a -all" });
  dns.add("by-a.test", { type: "A", address: "192.0.2.10" });
  dns.add("clock.test", { type: "TXT", text: "v=spf1 include:%{t}.clock.test ip4:192.0.2.10 -all" });
  shortLived = await DnsServer.start({ ttl: 1, negativeTtl: 1 });
  shortLived.add("origin.test", { type: "TXT", text: "v=spf1 ip4:192.0.2.10 -all" });
});
afterAll(() => {
  dns.close();
  shortLived.close();
});

const message = (from: string, id: number, extra = "") =>
  new TextEncoder().encode(
    `${extra}From: <${from}>\r\nTo: alice@example.test\r\nSubject: number ${id}\r\nMessage-ID: <${id}@origin.test>\r\n` +
      `Date: Mon, 23 Nov 2026 10:0${id % 10}:00 +0000\r\n\r\nbody ${id}\r\n`,
  );

function check(
  resolve: ReturnType<typeof createResolver>,
  raw: Uint8Array,
  ip = "192.0.2.10",
  sender = "a@origin.test",
) {
  return authenticateMessage({ raw, ip, helo: "client.origin.test", sender, hostname: "mx.example.test", resolve });
}

describe("kept sender-authentication results", () => {
  test("a second unsigned message from the same sender asks no DNS and gets the same fields", async () => {
    const resolve = createResolver([`127.0.0.1:${dns.port}`]);
    const first = await check(resolve, message("a@origin.test", 1));
    expect(first.spf).toBe("pass");
    expect(first.dmarc).toBe("pass");
    const asked = dns.queries.length;
    const second = await check(resolve, message("a@origin.test", 2));
    expect(dns.queries.length).toBe(asked);
    expect(second).toBe(first); // the kept result itself
    expect(second.dmarcPolicy).toBe("reject");
  });

  test("another client address, MAIL FROM or From field is checked on its own", async () => {
    const resolve = createResolver([`127.0.0.1:${dns.port}`]);
    await check(resolve, message("a@origin.test", 1));
    const other = await check(resolve, message("a@origin.test", 2), "192.0.2.99");
    expect(other.spf).toBe("fail");
    expect(other.headers).toContain("192.0.2.99");
    const foreignFrom = await check(resolve, message("b@elsewhere.test", 3));
    expect(foreignFrom.headers).toContain("header.from=elsewhere.test");
    const otherSender = await check(resolve, message("a@origin.test", 4), "192.0.2.10", "bounce@by-a.test");
    expect(otherSender.headers).toContain("smtp.mailfrom=by-a.test");
  });

  test("a result lasts only as long as the DNS answers it was made from", async () => {
    const resolve = createResolver([`127.0.0.1:${shortLived.port}`]);
    const first = await check(resolve, message("a@origin.test", 1));
    expect(await check(resolve, message("a@origin.test", 2))).toBe(first);
    await Bun.sleep(1100);
    const asked = shortLived.queries.length;
    const third = await check(resolve, message("a@origin.test", 3));
    expect(third).not.toBe(first);
    expect(third.headers).toBe(first.headers);
    expect(shortLived.queries.length).toBeGreaterThan(asked);
  });

  test("not kept when a lookup was not a kept TXT answer (an `a` mechanism) or a record uses the time macro", async () => {
    const resolve = createResolver([`127.0.0.1:${dns.port}`]);
    for (const sender of ["x@by-a.test", "x@clock.test"]) {
      const first = await check(resolve, message("a@origin.test", 1), "192.0.2.10", sender);
      const again = await check(resolve, message("a@origin.test", 2), "192.0.2.10", sender);
      expect(again).not.toBe(first);
      expect(again.spf).toBe(first.spf);
    }
    // The same records without those: kept.
    const first = await check(resolve, message("a@origin.test", 1));
    expect(await check(resolve, message("a@origin.test", 2))).toBe(first);
  });

  test("a DNS failure is a temperror and is not kept", async () => {
    const silent = await DnsServer.start();
    silent.close(); // nothing answers on its port any more
    const resolve = createResolver([`127.0.0.1:${silent.port}`], { timeoutMs: 200, attempts: 1 });
    const first = await check(resolve, message("a@origin.test", 1));
    expect(first.spf).toBe("temperror");
    const second = await check(resolve, message("a@origin.test", 2));
    expect(second.spf).toBe("temperror");
    expect(second).not.toBe(first);
  });
});

describe("resultKey", () => {
  const header = (fields: string) => `${fields}Subject: x\r\n\r\n`;
  const inputs = { hostname: "mx.example.test", ip: "192.0.2.10", helo: "h", sender: "a@origin.test" };

  test("signed messages have none", () => {
    expect(resultKey({ ...inputs, header: header("DKIM-Signature: v=1; d=origin.test\r\nFrom: <a@origin.test>\r\n") }))
      .toBeNull();
    expect(resultKey({ ...inputs, header: header("ARC-Authentication-Results: i=1; x\r\nFrom: <a@origin.test>\r\n") }))
      .toBeNull();
  });

  test("depends on the From and Return-Path fields, folded lines included, and on nothing else of the header", () => {
    const a = resultKey({ ...inputs, header: header("From: A\r\n <a@origin.test>\r\nMessage-ID: <1@x>\r\n") });
    const b = resultKey({ ...inputs, header: header("From: A\r\n <a@origin.test>\r\nMessage-ID: <2@x>\r\n") });
    const c = resultKey({ ...inputs, header: header("From: A\r\n <b@origin.test>\r\nMessage-ID: <1@x>\r\n") });
    const d = resultKey({ ...inputs, header: header("Return-Path: <z@y>\r\nFrom: A\r\n <a@origin.test>\r\n") });
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(d).not.toBe(a);
    expect(resultKey({ ...inputs, hostname: "other.test", header: header("From: A\r\n <a@origin.test>\r\n") }))
      .not.toBe(a);
  });
});
