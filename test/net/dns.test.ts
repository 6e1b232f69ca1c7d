import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createResolver, parseServer } from "../../src/net/dns.ts";
import { DnsServer } from "../helpers/dns-server.ts";

let dns: DnsServer;
beforeAll(async () => {
  dns = await DnsServer.start();
  dns.add("long.test", { type: "TXT", text: `v=DKIM1; k=rsa; p=${"A".repeat(400)}` });
  dns.add("long.test", { type: "TXT", text: "second record" });
  dns.add("a-only.test", { type: "A", address: "192.0.2.1" });
});
afterAll(() => dns.close());

describe("DNS resolver", () => {
  test("a TXT record longer than 255 bytes comes back as one record of several strings", async () => {
    const resolve = createResolver([`127.0.0.1:${dns.port}`]);
    const records = (await resolve("long.test", "TXT")) as string[][];
    expect(records.map((r) => r.join(""))).toEqual([`v=DKIM1; k=rsa; p=${"A".repeat(400)}`, "second record"]);
    expect(records[0]!.map((s) => s.length)).toEqual([255, 163]);
  });

  test("NXDOMAIN is ENOTFOUND and a name without TXT is ENODATA, as mailauth expects", async () => {
    const resolve = createResolver([`127.0.0.1:${dns.port}`]);
    expect(await resolve("missing.test", "TXT").catch((e) => e.code)).toBe("ENOTFOUND");
    expect(await resolve("a-only.test", "TXT").catch((e) => e.code)).toBe("ENODATA");
    expect(await resolve("a-only.test", "A")).toEqual(["192.0.2.1"]);
  });

  test("server addresses with and without ports", () => {
    expect(parseServer("192.0.2.53")).toEqual({ host: "192.0.2.53", port: 53 });
    expect(parseServer("127.0.0.1:5353")).toEqual({ host: "127.0.0.1", port: 5353 });
    expect(parseServer("[::1]:5353")).toEqual({ host: "::1", port: 5353 });
    expect(parseServer("[2001:db8::1]")).toEqual({ host: "2001:db8::1", port: 53 });
  });
});

describe("TXT answers are kept for their TTL", () => {
  const asked = (server: DnsServer, name: string) => server.queries.filter((q) => q.name === name).length;

  test("an answer with a TTL is asked once while it lasts; TTL 0 is asked every time", async () => {
    const kept = await DnsServer.start({ ttl: 300 });
    const fresh = await DnsServer.start();
    try {
      for (const server of [kept, fresh]) server.add("spf.test", { type: "TXT", text: "v=spf1 -all" });
      const fromKept = createResolver([`127.0.0.1:${kept.port}`]);
      const fromFresh = createResolver([`127.0.0.1:${fresh.port}`]);
      for (let i = 0; i < 3; i++) {
        expect(await fromKept("spf.test", "TXT")).toEqual([["v=spf1 -all"]]);
        expect(await fromFresh("spf.test", "TXT")).toEqual([["v=spf1 -all"]]);
      }
      expect(asked(kept, "spf.test")).toBe(1);
      expect(asked(fresh, "spf.test")).toBe(3);
      // Lookups of one name at the same time share one query.
      await Promise.all([fromFresh("spf.test", "TXT"), fromFresh("spf.test", "TXT")]);
      expect(asked(fresh, "spf.test")).toBe(4);
    } finally {
      kept.close();
      fresh.close();
    }
  });

  test("NXDOMAIN is kept only when the answer carries an SOA (RFC 2308), and still fails each time", async () => {
    const withSoa = await DnsServer.start({ negativeTtl: 300 });
    try {
      const resolve = createResolver([`127.0.0.1:${withSoa.port}`]);
      const withoutSoa = createResolver([`127.0.0.1:${dns.port}`]);
      for (let i = 0; i < 2; i++) {
        expect(await resolve("_dmarc.none.test", "TXT").catch((e) => e.code)).toBe("ENOTFOUND");
        expect(await withoutSoa("_dmarc.none.test", "TXT").catch((e) => e.code)).toBe("ENOTFOUND");
      }
      expect(asked(withSoa, "_dmarc.none.test")).toBe(1);
      expect(asked(dns, "_dmarc.none.test")).toBe(2);
    } finally {
      withSoa.close();
    }
  });
});
