/**
 * The programs in examples/ run here as a newcomer would use them — imported from "postern",
 * started in this process — with real SMTP clients talking to them over loopback.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { startCapture } from "../../examples/capture.ts";
import { startForwarder } from "../../examples/forward-aliases.ts";
import { startInboundWebhook } from "../../examples/inbound-webhook.ts";
import { createPostern, setLogLevel } from "postern";
import { DnsServer } from "../helpers/dns-server.ts";
import { ROOT } from "../helpers/runtime.ts";
import { tempDir } from "../helpers/tmp.ts";

const OFF = {
  smtp: false,
  submission: false,
  submissions: false,
  imap: false,
  imaps: false,
  pop3: false,
  pop3s: false,
  http: false,
} as const;
let dns: DnsServer;
const dirs: Array<{ cleanup(): void }> = [];
const dir = () => {
  const made = tempDir("postern-example-");
  dirs.push(made);
  return join(made.path, "data");
};

beforeAll(async () => {
  setLogLevel("warn");
  dns = await DnsServer.start();
});
afterAll(() => {
  dns.close();
  for (const d of dirs) d.cleanup();
});

const send = (
  port: number,
  envelope: { from: string; to: string[] },
  raw: string,
  auth?: { user: string; pass: string },
) =>
  nodemailer.createTransport({
    host: "127.0.0.1",
    port,
    ignoreTLS: true,
    name: "client.test",
    ...(auth ? { auth } : {}),
  }).sendMail({ envelope, raw });

describe("examples", () => {
  test("inbound-webhook: each message reaches the endpoint before the 250; a failing endpoint makes it 451", async () => {
    const received: Array<Record<string, unknown>> = [];
    let failNext = true;
    const endpoint = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      async fetch(request) {
        if (failNext) {
          failNext = false;
          return new Response("down", { status: 503 });
        }
        received.push((await request.json()) as Record<string, unknown>);
        return new Response(null, { status: 204 });
      },
    });
    const postern = await startInboundWebhook({
      domain: "in.example.test",
      webhookUrl: `http://127.0.0.1:${endpoint.port}/mail`,
      smtpPort: 0,
      dataDir: dir(),
    });
    try {
      const port = postern.addresses.smtp!.port;
      const raw = "From: a@remote.test\r\nTo: orders@in.example.test\r\nSubject: order 42\r\n\r\nTwo apples.\r\n";
      const first = await send(port, { from: "a@remote.test", to: ["orders@in.example.test"] }, raw).catch((
        e: { responseCode?: number },
      ) => e);
      expect((first as { responseCode?: number }).responseCode).toBe(451);
      expect(received).toHaveLength(0);
      const second = await send(port, { from: "a@remote.test", to: ["orders@in.example.test"] }, raw);
      expect(second.response).toStartWith("250");
      expect(received).toEqual([{
        from: "a@remote.test",
        to: ["orders@in.example.test"],
        subject: "order 42",
        text: "Two apples.\n",
        remoteAddress: "127.0.0.1",
      }]);
      // Discarded after the hand-off: nothing piles up in the store.
      expect(await postern.messages("postmaster@in.example.test")).toHaveLength(0);
    } finally {
      await postern.stop(0);
      endpoint.stop(true);
    }
  });

  test("forward-aliases: mail to an alias reaches another Postern in this process with an SRS sender; the two share nothing", async () => {
    const delivered: Array<{ sender: string; recipients: string[] }> = [];
    const destination = await createPostern({
      config: {
        hostname: "mx.dest.test",
        dataDir: dir(),
        dns: { servers: [`127.0.0.1:${dns.port}`] },
        listeners: { ...OFF, smtp: { host: "127.0.0.1", port: 0 } },
      },
      onMessage: (m) => void delivered.push({ sender: m.sender, recipients: m.recipients }),
    });
    await destination.domains.add("dest.test");
    await destination.accounts.add({ address: "me@dest.test", password: "not-used-here" });
    const forwarder = await startForwarder({
      domain: "alias.test",
      aliases: { hello: ["me@dest.test"] },
      srsSecret: "example-srs-secret-0123456789",
      smtpPort: 0,
      dataDir: dir(),
      // As the example documents: "*" sends every target domain to the one destination (issue 19, bug 3).
      transport: { "*": `127.0.0.1:${destination.addresses.smtp!.port}` },
      dnsServers: [`127.0.0.1:${dns.port}`],
    });
    try {
      await send(
        forwarder.addresses.smtp!.port,
        { from: "zed@remote.test", to: ["hello@alias.test"] },
        "From: zed@remote.test\r\nTo: hello@alias.test\r\nSubject: via the alias\r\n\r\nhi\r\n",
      );
      for (let i = 0; i < 100 && delivered.length === 0; i++) await Bun.sleep(50);
      expect(delivered).toHaveLength(1);
      expect(delivered[0]!.sender).toMatch(/^SRS0=[^=]+=[^=]+=remote\.test=zed@mx\.alias\.test$/);
      expect(delivered[0]!.recipients).toEqual(["me@dest.test"]);
      const [message] = await destination.messages("me@dest.test");
      expect(message!.subject).toBe("via the alias");
      expect(new TextDecoder().decode(await message!.raw())).toContain("\r\n\r\nhi\r\n");
      // Two stores: neither knows the other's domains.
      expect((await forwarder.domains.list()).map((d) => d.name)).toEqual(["alias.test"]);
      expect((await destination.domains.list()).map((d) => d.name)).toEqual(["dest.test"]);
      // A restart with the same alias list adds nothing.
      await forwarder.stop(0);
      const again = await startForwarder({
        domain: "alias.test",
        aliases: { hello: ["me@dest.test"] },
        srsSecret: "example-srs-secret-0123456789",
        smtpPort: 0,
        dataDir: forwarder.config.dataDir,
      });
      expect((await again.aliases.get("hello@alias.test"))!.targets).toEqual(["me@dest.test"]);
      await again.stop(0);
    } finally {
      await forwarder.stop(0).catch(() => {});
      await destination.stop(0);
    }
  });

  test("capture: a test suite captures what the application sends, and nothing is stored or sent on", async () => {
    const mail = await startCapture({ sender: "noreply@shop.test" });
    try {
      // The application under test, sending its welcome mail.
      const app = nodemailer.createTransport({
        host: "127.0.0.1",
        port: mail.port,
        ignoreTLS: true,
        auth: { user: mail.user, pass: mail.password },
      });
      await app.sendMail({
        from: "Shop <noreply@shop.test>",
        to: "new.customer@example.org",
        subject: "Welcome!",
        text: "Your account is ready.",
        html: "<p>Your account is ready.</p>",
      });
      const [welcome] = await mail.waitFor(1);
      expect(welcome).toMatchObject({
        from: "noreply@shop.test",
        to: ["new.customer@example.org"],
        subject: "Welcome!",
      });
      expect(welcome!.html?.trim()).toBe("<p>Your account is ready.</p>");
      expect(welcome!.text.trim()).toBe("Your account is ready.");
      await expect(mail.waitFor(2, 200)).rejects.toThrow("captured 1 of 2");
    } finally {
      await mail.stop();
    }
  });

  test("createPostern names the bad config key", async () => {
    await expect(createPostern({ config: { listeners: { smtp: { port: -1 } } } as never })).rejects.toThrow(
      "listeners.smtp",
    );
  });
});

describe("embedding on Deno", () => {
  test("createPostern runs under Deno: two instances, a hook and onMessage", async () => {
    const proc = Bun.spawn([
      join(ROOT, "node_modules", ".bin", "deno"),
      "run",
      "-A",
      join(ROOT, "test/examples/deno-embed.ts"),
      dir(),
      `127.0.0.1:${dns.port}`,
    ], { stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    if (code !== 0) throw new Error(`deno exited ${code}: ${err}`);
    expect(JSON.parse(out.trim().split("\n").at(-1)!)).toEqual({
      runtime: "deno",
      captured: "captured on deno",
      stored: ["stored on deno"],
      heard: ["stored on deno"],
      captureStored: 1,
    });
  }, 60_000);
});
