/**
 * Plain-HTTP webhooks (issue 19, bug 4): loopback targets always, others only behind
 * webhooks.allowHttp — checked by the rule itself and by a real POST over a socket.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { isLoopbackHost, isWebhookUrl, webhookRefusal } from "../../src/forward/webhook-target.ts";
import { postWebhook } from "../../src/queue/webhook.ts";

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

  test("to a loopback host it is delivered without any switch", async () => {
    const reply = await postWebhook(`http://127.0.0.1:${server.port}/in`, payload("loop@x.test"), { timeoutMs: 5000 });
    expect(reply).toMatchObject({ code: 250 });
    expect(received).toContainEqual({ from: "a@origin.test", to: "loop@x.test" });
  });

  test.skipIf(!lanAddress)("to another host: refused for good without allowHttp, delivered with it", async () => {
    const url = `http://${lanAddress}:${server.port}/in`;
    const refused = await postWebhook(url, payload("lan-refused@x.test"), { timeoutMs: 5000 });
    expect(refused).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(refused.text).toContain("webhooks.allowHttp");
    expect(received.some((e) => e.to === "lan-refused@x.test")).toBe(false);
    const allowed = await postWebhook(url, payload("lan@x.test"), { timeoutMs: 5000, allowHttp: true });
    expect(allowed).toMatchObject({ code: 250 });
    expect(received).toContainEqual({ from: "a@origin.test", to: "lan@x.test" });
  });
});
