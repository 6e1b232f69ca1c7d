/**
 * Outbound HTTP targets chosen by users (issue 18, server-side request forgery): special-use
 * addresses refused unless `outbound.allowPrivateTargets` allows them, names resolved once and
 * the POST sent to the address checked (a later DNS answer changes nothing), no redirect followed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import { createResolver } from "../../src/net/dns.ts";
import { checkOutboundUrl, isPrivateAddress, literalTargetRefusal, postToTarget } from "../../src/net/outbound-url.ts";
import { DnsServer } from "../helpers/dns-server.ts";

describe("special-use addresses", () => {
  test("loopback, private, link-local, CGNAT, unspecified, multicast and their mapped forms", () => {
    for (
      const ip of [
        "127.0.0.1",
        "127.8.9.10",
        "10.0.0.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "100.127.255.255",
        "0.0.0.0",
        "224.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:7f00:1",
        "::ffff:a9fe:a9fe",
        "::ffff:10.1.2.3",
        "64:ff9b::a00:1",
        "::127.0.0.1",
      ]
    ) expect([ip, isPrivateAddress(ip)]).toEqual([ip, true]);
    for (
      const ip of ["93.184.215.14", "8.8.8.8", "100.128.0.1", "172.32.0.1", "2001:4860:4860::8888", "::ffff:8.8.8.8"]
    ) {
      expect([ip, isPrivateAddress(ip)]).toEqual([ip, false]);
    }
  });

  test("a URL with a private host is refused without a switch, allowed by its network or by true", async () => {
    for (
      const url of [
        "https://127.0.0.1/x",
        "https://10.0.0.1/x",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]:8443/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[fe80::1]/x",
        "http://localhost:9/x",
        "http://a.localhost/x",
      ]
    ) {
      const checked = await checkOutboundUrl(url);
      expect([url, "refusal" in checked && checked.refusal]).toEqual([url, expect.stringContaining("private address")]);
      expect(literalTargetRefusal(url, false)).toContain("outbound.allowPrivateTargets");
      expect("refusal" in (await checkOutboundUrl(url, { allowPrivateTargets: true }))).toBe(false);
    }
    const loopbackOnly = { allowPrivateTargets: ["127.0.0.1", "::1"] };
    expect(await checkOutboundUrl("http://127.0.0.1:9/x", loopbackOnly)).toMatchObject({ address: "127.0.0.1" });
    expect(await checkOutboundUrl("http://[::1]:9/x", loopbackOnly)).toMatchObject({ address: "::1", family: 6 });
    expect(await checkOutboundUrl("https://10.0.0.1/x", loopbackOnly)).toHaveProperty("refusal");
    expect(await checkOutboundUrl("https://127.0.0.2/x", loopbackOnly)).toHaveProperty("refusal");
    expect(await checkOutboundUrl("https://93.184.215.14/x")).toMatchObject({ address: "93.184.215.14" });
    expect(literalTargetRefusal("https://93.184.215.14/x", false)).toBeNull();
    expect(literalTargetRefusal("https://hooks.example/x", false)).toBeNull();
    expect(await checkOutboundUrl("ftp://93.184.215.14/x")).toHaveProperty("refusal");
  });
});

describe("names and the connection", () => {
  let dns: DnsServer;
  let server: Server;
  let port: number;
  const hits: Array<{ path: string; host: string }> = [];
  beforeAll(async () => {
    dns = await DnsServer.start();
    dns.add("inside.test", { type: "A", address: "127.0.0.1" });
    dns.add("mixed.test", { type: "A", address: "93.184.215.14" });
    dns.add("mixed.test", { type: "A", address: "10.0.0.1" });
    dns.add("rebind.test", { type: "A", address: "127.0.0.1" });
    server = createServer((req, res) => {
      hits.push({ path: req.url ?? "", host: req.headers.host ?? "" });
      req.resume();
      if (req.url === "/redirect") res.writeHead(302, { location: "/elsewhere" }).end();
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => {
    dns.close();
    server.close();
  });
  const resolver = () => createResolver([`127.0.0.1:${dns.port}`], { timeoutMs: 1000, attempts: 1 });

  test("a name resolving to a private address is refused; one private address of several is enough", async () => {
    const resolve = resolver();
    expect(await checkOutboundUrl(`https://inside.test:${port}/x`, { resolve })).toMatchObject({
      refusal: expect.stringContaining("127.0.0.1"),
    });
    expect(await checkOutboundUrl("https://mixed.test/x", { resolve })).toMatchObject({
      refusal: expect.stringContaining("10.0.0.1"),
    });
    expect(await checkOutboundUrl("https://unknown.test/x", { resolve })).toMatchObject({ temporary: true });
  });

  test("the POST goes to the address checked, with the name as Host, whatever DNS says later", async () => {
    const target = await checkOutboundUrl(`http://rebind.test:${port}/pinned`, {
      resolve: resolver(),
      allowPrivateTargets: ["127.0.0.1"],
    });
    if ("refusal" in target) throw new Error(target.refusal);
    // The name now points elsewhere (DNS rebinding): the connection still goes where the check said.
    dns.records.set("rebind.test", [{ type: "A", address: "10.9.9.9" }]);
    expect(await postToTarget(target, { headers: {}, body: "{}", timeoutMs: 5000 })).toBe(204);
    expect(hits).toContainEqual({ path: "/pinned", host: `rebind.test:${port}` });
  });

  test("a redirect is answered, never followed", async () => {
    const target = await checkOutboundUrl(`http://127.0.0.1:${port}/redirect`, { allowPrivateTargets: true });
    if ("refusal" in target) throw new Error(target.refusal);
    expect(await postToTarget(target, { headers: {}, body: "{}", timeoutMs: 5000 })).toBe(302);
    expect(hits.some((h) => h.path === "/elsewhere")).toBe(false);
  });
});
