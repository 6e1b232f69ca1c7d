/**
 * Login bans and the HTTP client address (issue 18, findings 4 and 5), against `postern serve`:
 * - after `auth.ban.failures` failed logins from one address, that address is refused outright on every protocol
 *   (SMTP 421 4.7.0, IMAP BYE, POP3 -ERR [AUTH], HTTP 429), even with the right password, while other addresses
 *   still log in; the ban is logged in a fail2ban-ready line;
 * - over HTTP the throttle counts the socket's peer: rotating X-Forwarded-For does not dodge it, and the header is
 *   believed only from an address in `api.trustedProxies`.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
const PROXY = "127.0.0.3";

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "imap", "pop3", "http"],
    users: { "jo@example.test": "jo-password" },
    config: {
      auth: { allowPlaintext: true, ban: { failures: 3, duration: 60, allow: ["127.0.0.9"] } },
      api: { trustedProxies: [PROXY] },
    },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

async function imapLogin(from: string, password: string): Promise<string[]> {
  const imap = await LineClient.connect(mail.server.ports.imap!, { localAddress: from });
  try {
    await imap.readLine();
    await imap.line(`a LOGIN jo@example.test ${password}`);
    const lines = await imap.readUntil((l) => l.startsWith("a "));
    const next = await imap.readLine(1000).catch(() => null);
    return next ? [...lines, next] : lines;
  } finally {
    imap.close();
  }
}

/** One HTTP/1.1 request from a chosen local address; resolves with the status code. */
function httpGet(from: string, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port: mail.server.ports.http!, localAddress: from });
    let text = "";
    socket.on("data", (chunk) => {
      text += chunk.toString("latin1");
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (m) {
        socket.destroy();
        resolve(Number(m[1]));
      }
    });
    socket.on("error", reject);
    const lines = Object.entries({ host: "localhost", connection: "close", ...headers }).map(([k, v]) => `${k}: ${v}`);
    socket.write(`GET ${path} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`);
  });
}

const basic = (password: string) => `Basic ${Buffer.from(`jo@example.test:${password}`).toString("base64")}`;

describe(`login bans on ${runtime()}`, () => {
  test("three failures ban the address on IMAP, SMTP, POP3 and HTTP; other addresses still log in", async () => {
    const from = "127.0.0.5";
    for (let i = 0; i < 3; i++) expect((await imapLogin(from, "wrong")).join("\n")).toContain("a NO");
    // Banned now: even the right password is refused, and the connection closed.
    const banned = await imapLogin(from, "jo-password");
    expect(banned.some((l) => l.startsWith("a OK"))).toBe(false);
    expect(banned.some((l) => l.startsWith("* BYE"))).toBe(true);

    const smtp = await LineClient.connect(mail.server.ports.smtp!, { localAddress: from });
    await smtp.readUntil((l) => l.startsWith("220 "));
    await smtp.line("EHLO ban.test");
    await smtp.readUntil((l) => l.startsWith("250 "));
    await smtp.line(`AUTH PLAIN ${Buffer.from("\0jo@example.test\0jo-password").toString("base64")}`);
    expect(await smtp.readLine()).toStartWith("421 4.7.0");
    smtp.close();

    const pop3 = await LineClient.connect(mail.server.ports.pop3!, { localAddress: from });
    await pop3.readLine();
    await pop3.line("USER jo@example.test");
    await pop3.readLine();
    await pop3.line("PASS jo-password");
    expect(await pop3.readLine()).toStartWith("-ERR [AUTH]");
    pop3.close();

    expect(await httpGet(from, "/jmap/session", { authorization: basic("jo-password") })).toBe(429);

    // Another address is not affected, nor is one on the allow-list however often it fails.
    expect((await imapLogin("127.0.0.6", "jo-password")).join("\n")).toContain("a OK");
    for (let i = 0; i < 4; i++) await imapLogin("127.0.0.9", "wrong");
    expect((await imapLogin("127.0.0.9", "jo-password")).join("\n")).toContain("a OK");

    const metrics = await (await fetch(`http://127.0.0.1:${mail.server.ports.http}/metrics`)).text();
    expect(metrics).toMatch(/^postern_auth_banned_addresses 1$/m);
    const log = mail.server.log();
    expect(log).toMatch(/level=warn msg="auth ban" ip=127\.0\.0\.5 failures=3 seconds=60/);
  });

  test("HTTP: a rotating X-Forwarded-For does not dodge the ban; a trusted proxy's header names the client", async () => {
    const from = "127.0.0.7";
    for (let i = 0; i < 3; i++) {
      const status = await httpGet(from, "/jmap/session", {
        authorization: basic("wrong"),
        "x-forwarded-for": `198.51.100.${i + 1}`,
      });
      expect(status).toBe(401);
    }
    expect(
      await httpGet(from, "/jmap/session", { authorization: basic("jo-password"), "x-forwarded-for": "203.0.113.9" }),
    )
      .toBe(429);

    // Through the trusted proxy, each client is counted by the address the proxy reports.
    for (let i = 0; i < 3; i++) {
      expect(await httpGet(PROXY, "/jmap/session", { authorization: basic("wrong"), "x-forwarded-for": "192.0.2.44" }))
        .toBe(401);
    }
    expect(
      await httpGet(PROXY, "/jmap/session", { authorization: basic("jo-password"), "x-forwarded-for": "192.0.2.44" }),
    )
      .toBe(429);
    expect(
      await httpGet(PROXY, "/jmap/session", { authorization: basic("jo-password"), "x-forwarded-for": "192.0.2.45" }),
    )
      .toBe(200);
    expect(
      await httpGet(PROXY, "/jmap/session", { authorization: basic("jo-password"), forwarded: 'for="192.0.2.46"' }),
    )
      .toBe(200);
  });
});
