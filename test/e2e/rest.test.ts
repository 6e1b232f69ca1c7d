/**
 * The REST API over real HTTP on the runtime named by POSTERN_TEST_RUNTIME: an account made
 * over REST receives mail over SMTP, and REST lists it and returns the raw bytes SMTP stored.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const TOKEN = "e2e-admin-token-0123456789";
let mail: MailServer;
let base: string;

beforeAll(async () => {
  mail = await startMailServer({ waitFor: ["smtp", "http"], users: {}, config: { api: { adminToken: TOKEN } } });
  base = `http://127.0.0.1:${mail.server.ports.http}`;
}, 60_000);
afterAll(async () => {
  await mail?.stop();
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });

describe(`REST over HTTP on ${runtime()}`, () => {
  test("create an account, receive mail over SMTP, list it and download it byte for byte", async () => {
    expect((await api("POST", "/api/v1/accounts", { address: "rita@example.test", password: "rita-password" })).status)
      .toBe(201);
    const raw = "From: x@remote.test\r\nTo: rita@example.test\r\nSubject: over rest\r\n\r\nhello rest\r\n";
    await nodemailer
      .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
      .sendMail({ envelope: { from: "x@remote.test", to: ["rita@example.test"] }, raw });
    const page = (await (await api("GET", "/api/v1/accounts/rita@example.test/messages")).json()) as {
      messages: Array<{ id: number; subject: string }>;
    };
    expect(page.messages.map((m) => m.subject)).toEqual(["over rest"]);
    const stored = await (await api("GET", `/api/v1/accounts/rita@example.test/messages/${page.messages[0]!.id}/raw`))
      .text();
    // What SMTP stored: our trace headers, then exactly the bytes the client sent.
    expect(stored.endsWith(raw)).toBe(true);
    expect(stored).toMatch(/^(Authentication-Results|Received-SPF|Received): /);
    const problem = await api("POST", "/api/v1/accounts", { address: "rita@example.test", password: "rita-password" });
    expect(problem.status).toBe(409);
    expect(problem.headers.get("content-type")).toContain("application/problem+json");
    expect((await fetch(`${base}/api/openapi.json`)).status).toBe(200);
  });
});
