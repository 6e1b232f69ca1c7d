/**
 * Plain-HTTP webhooks (issue 19, bug 4): loopback targets always, others only behind
 * webhooks.allowHttp — checked by the rule itself and by a real POST over a socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { isLoopbackHost, isWebhookUrl, webhookRefusal } from "../../src/forward/webhook-target.ts";
import { createResolver } from "../../src/net/dns.ts";
import { postWebhook } from "../../src/queue/webhook.ts";
import { DnsServer } from "../helpers/dns-server.ts";

describe("the webhook URL rule", () => {
  test("loopback hosts", () => {
    for (const host of ["localhost", "LOCALHOST.", "app.localhost", "127.0.0.1", "127.1.2.3", "[::1]", "::1"]) {
      expect(isLoopbackHost(host)).toBe(true);
    }
    for (const host of ["example.com", "localhost.example.com", "10.0.0.1", "128.0.0.1", "[::2]", "0.0.0.0"]) {
      expect(isLoopbackHost(host)).toBe(false);
    }
  });

  test("https anywhere; http to loopback, or anywhere with allowHttp; nothing else", () => {
    expect(isWebhookUrl("HTTP://x.example/")).toBe(true);
    expect(isWebhookUrl("ftp://x.example/")).toBe(false);
    expect(webhookRefusal("https://hooks.example/in")).toBeNull();
    expect(webhookRefusal("http://127.0.0.1:8080/in")).toBeNull();
    expect(webhookRefusal("http://localhost/in")).toBeNull();
    expect(webhookRefusal("http://[::1]:9/in")).toBeNull();
    expect(webhookRefusal("http://hooks.example/in")).toContain("webhooks.allowHttp");
    expect(webhookRefusal("http://hooks.example/in", { allowHttp: true })).toBeNull();
    expect(webhookRefusal("http://")).toContain("Not a valid URL");
  });
});

/** A non-loopback address of this machine, where the endpoint also listens; null when there is none. */
const lanAddress = Object.values(networkInterfaces()).flat().find((i) => i && i.family === "IPv4" && !i.internal)
  ?.address ?? null;
if (!lanAddress) console.warn("skipping the allowHttp POST test: this machine has no non-loopback IPv4 address");

describe("postWebhook over plain HTTP", () => {
  const received: Array<{ from: string; to: string }> = [];
  let server: ReturnType<typeof Bun.serve>;
  beforeAll(() => {
    server = Bun.serve({
      port: 0,
      hostname: "0.0.0.0",
      async fetch(request) {
        received.push(((await request.json()) as { envelope: { from: string; to: string } }).envelope);
        return new Response(null, { status: 204 });
      },
    });
  });
  afterAll(() => server.stop(true));
  const raw = new TextEncoder().encode("From: a@origin.test\r\nSubject: plain\r\n\r\nhi\r\n");
  const payload = (to: string) => ({ envelope: { from: "a@origin.test", to }, raw });

  test("to a loopback host it is delivered where outbound.allowPrivateTargets allows loopback", async () => {
    const reply = await postWebhook(`http://127.0.0.1:${server.port}/in`, payload("loop@x.test"), {
      timeoutMs: 5000,
      outbound: { allowPrivateTargets: ["127.0.0.1", "::1"] },
    });
    expect(reply).toMatchObject({ code: 250 });
    expect(received).toContainEqual({ from: "a@origin.test", to: "loop@x.test" });
  });

  test.skipIf(!lanAddress)("to another host: refused for good without allowHttp, delivered with it", async () => {
    const url = `http://${lanAddress}:${server.port}/in`;
    // The machine's own address is likely private too: the switch lets only the http:// rule speak.
    const outbound = { allowPrivateTargets: true };
    const refused = await postWebhook(url, payload("lan-refused@x.test"), { timeoutMs: 5000, outbound });
    expect(refused).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(refused.text).toContain("webhooks.allowHttp");
    expect(received.some((e) => e.to === "lan-refused@x.test")).toBe(false);
    const allowed = await postWebhook(url, payload("lan@x.test"), { timeoutMs: 5000, allowHttp: true, outbound });
    expect(allowed).toMatchObject({ code: 250 });
    expect(received).toContainEqual({ from: "a@origin.test", to: "lan@x.test" });
  });
});

describe("postWebhook to private addresses (issue 18, server-side request forgery)", () => {
  const received: string[] = [];
  let server: ReturnType<typeof Bun.serve>;
  let dns: DnsServer;
  beforeAll(async () => {
    server = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        received.push(new URL(request.url).pathname);
        await request.arrayBuffer();
        if (new URL(request.url).pathname === "/moved") {
          return new Response(null, { status: 307, headers: { location: "/followed" } });
        }
        return new Response(null, { status: 204 });
      },
    });
    dns = await DnsServer.start();
    dns.add("hooks.inside.test", { type: "A", address: "127.0.0.1" });
  });
  afterAll(() => {
    server.stop(true);
    dns.close();
  });
  const raw = new TextEncoder().encode("From: a@origin.test\r\nSubject: private\r\n\r\nhi\r\n");
  const payload = { envelope: { from: "a@origin.test", to: "x@x.test" }, raw };

  test("127.0.0.1, 10.0.0.1, 169.254.169.254 and a name resolving to 127.0.0.1 bounce 5.7.1 without the switch", async () => {
    const resolve = createResolver([`127.0.0.1:${dns.port}`], { timeoutMs: 1000, attempts: 1 });
    for (
      const url of [
        `http://127.0.0.1:${server.port}/a`,
        `https://10.0.0.1/b`,
        `https://169.254.169.254/latest/meta-data/`,
        `https://hooks.inside.test:${server.port}/c`,
        `https://[::ffff:127.0.0.1]:${server.port}/d`,
      ]
    ) {
      const reply = await postWebhook(url, payload, { timeoutMs: 2000, outbound: { resolve } });
      expect([url, reply.code, reply.enhanced]).toEqual([url, 550, "5.7.1"]);
      expect(reply.text).toContain("outbound.allowPrivateTargets");
    }
    expect(received).toEqual([]);
  });

  test("a redirect is not followed: the delivery bounces", async () => {
    const reply = await postWebhook(`http://127.0.0.1:${server.port}/moved`, payload, {
      timeoutMs: 5000,
      outbound: { allowPrivateTargets: ["127.0.0.1"] },
    });
    expect(reply).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(reply.text).toContain("redirects are not followed");
    expect(received).toEqual(["/moved"]);
  });
});
