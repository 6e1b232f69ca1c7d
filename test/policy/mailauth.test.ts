/**
 * Authentication-Results for inbound mail: DKIM and SPF checked through mailauth against a
 * local DNS server that serves the test's own keys and policies.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { generateKeyPairSync } from "node:crypto";
import { dkimSign } from "mailauth";
import { createResolver } from "../../src/net/dns.ts";
import { authenticateMessage } from "../../src/policy/mailauth.ts";
import { DnsServer } from "../helpers/dns-server.ts";

let dns: DnsServer;
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
const publicB64 = publicKey.export({ type: "spki", format: "der" }).toString("base64");

beforeAll(async () => {
  dns = await DnsServer.start();
  dns.add("sel._domainkey.signed.test", { type: "TXT", text: `v=DKIM1; k=rsa; p=${publicB64}` });
  dns.add("signed.test", { type: "TXT", text: "v=spf1 ip4:192.0.2.10 -all" });
  dns.add("strict.test", { type: "TXT", text: "v=spf1 -all" });
  dns.add("nospf.test", { type: "A", address: "192.0.2.99" });
});
afterAll(() => dns.close());

const message = (body: string) =>
  `From: Someone <someone@signed.test>\r\nTo: alice@example.test\r\nSubject: signed\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <m1@signed.test>\r\n\r\n${body}`;

async function signed(body: string): Promise<string> {
  const raw = message(body);
  const result = await dkimSign(
    raw,
    {
      canonicalization: "relaxed/relaxed",
      signatureData: [{ signingDomain: "signed.test", selector: "sel", privateKey: privatePem }],
    } as unknown as Parameters<typeof dkimSign>[1],
  );
  if (!result.signatures) throw new Error(`signing failed: ${JSON.stringify(result.errors)}`);
  return result.signatures + raw;
}

function check(raw: string, sender: string, ip = "192.0.2.10") {
  return authenticateMessage({
    raw: new TextEncoder().encode(raw),
    ip,
    helo: "mail.signed.test",
    sender,
    hostname: "mx.example.test",
    resolve: createResolver([`127.0.0.1:${dns.port}`]),
  });
}

describe("Authentication-Results from mailauth", () => {
  test("a DKIM signature made with the published key passes", async () => {
    const result = await check(await signed("Hello, world.\r\n"), "someone@signed.test");
    expect(result.dkim).toEqual(["pass"]);
    expect(result.headers).toMatch(/^Authentication-Results: mx\.example\.test;/m);
    expect(result.headers).toContain("dkim=pass");
    expect(result.headers).toContain("header.d=signed.test");
  });

  test("a body changed after signing fails DKIM", async () => {
    const tampered = (await signed("Pay 10 EUR.\r\n")).replace("Pay 10 EUR.", "Pay 9999 EUR.");
    const result = await check(tampered, "someone@signed.test");
    expect(result.dkim).toEqual(["fail"]);
    expect(result.headers).toContain("dkim=fail");
  });

  test("SPF: pass from the allowed IP, fail from another, none without a record", async () => {
    const raw = message("x\r\n");
    expect((await check(raw, "someone@signed.test", "192.0.2.10")).spf).toBe("pass");
    expect((await check(raw, "someone@signed.test", "203.0.113.5")).spf).toBe("fail");
    expect((await check(raw, "someone@strict.test", "192.0.2.10")).spf).toBe("fail");
    expect((await check(raw, "someone@nospf.test", "192.0.2.10")).spf).toBe("none");
  });

  test("the headers are CRLF lines ready to prepend", async () => {
    const { headers } = await check(message("x\r\n"), "someone@signed.test");
    expect(headers.endsWith("\r\n")).toBe(true);
    expect(headers.replace(/\r\n/g, "")).not.toContain("\n");
  });
});
