/**
 * The REST admin API through Hono's `app.request()`, over a real store.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Validator } from "@seriousme/openapi-schema-validator";
import { createApp } from "../../src/api/app.ts";
import { Deliverer } from "../../src/deliver/deliverer.ts";
import { Directory } from "../../src/deliver/directory.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

const TOKEN = "test-admin-token-0123456789";
let store: Store;
let cleanup: () => void;
let app: ReturnType<typeof createApp>;
const sent: string[] = [];

beforeAll(async () => {
  ({ store, cleanup } = await openTempStore());
  app = createApp({ version: "0.0.0", startedAt: Date.now(), metrics: () => [], store, adminToken: TOKEN });
});
afterAll(() => cleanup());

function call(method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  return app.request(path, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("REST admin API", () => {
  test("without a valid token: 401 problem documents", async () => {
    for (const token of [null, "wrong-token-wrong-token"]) {
      const res = await call("GET", "/api/v1/domains", undefined, token);
      expect(res.status).toBe(401);
      expect(res.headers.get("content-type")).toContain("application/problem+json");
      expect(res.headers.get("www-authenticate")).toContain("Bearer");
      expect(await res.json()).toMatchObject({ type: "/problems/unauthorized", status: 401 });
    }
  });

  test("domains: add, list, duplicate is 409, bad body names the field, remove", async () => {
    expect((await call("POST", "/api/v1/domains", { name: "example.test" })).status).toBe(201);
    expect(await (await call("POST", "/api/v1/domains", { name: "fwd.test", kind: "forward" })).json()).toEqual({
      name: "fwd.test",
      kind: "forward",
    });
    expect(await (await call("GET", "/api/v1/domains")).json()).toEqual([{ name: "example.test", kind: "mailbox" }, {
      name: "fwd.test",
      kind: "forward",
    }]);
    const duplicate = await call("POST", "/api/v1/domains", { name: "example.test" });
    expect(duplicate.status).toBe(409);
    const bad = await call("POST", "/api/v1/domains", { name: 42, extra: true });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { errors: Array<{ path: string }> };
    expect(problem.errors.map((e) => e.path).sort()).toEqual(["body.extra", "body.name"]);
    expect((await call("POST", "/api/v1/domains", "{not json")).status).toBe(400);
    expect((await call("DELETE", "/api/v1/domains/fwd.test")).status).toBe(204);
    expect((await call("DELETE", "/api/v1/domains/fwd.test")).status).toBe(404);
  });

  test("accounts and aliases", async () => {
    const created = await call("POST", "/api/v1/accounts", {
      address: "ann@example.test",
      password: "long password",
      displayName: "Ann",
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({
      address: "ann@example.test",
      displayName: "Ann",
      quota: null,
      disabled: false,
      admin: false,
    });
    expect((await call("POST", "/api/v1/accounts", { address: "not an address", password: "long password" })).status)
      .toBe(400);
    expect((await call("POST", "/api/v1/accounts", { address: "x@nowhere.test", password: "long password" })).status)
      .toBe(400);
    expect((await call("PATCH", "/api/v1/accounts/ann@example.test", { password: "short" })).status).toBe(400);
    expect((await call("PATCH", "/api/v1/accounts/ann@example.test", { password: "a new long password" })).status).toBe(
      204,
    );
    expect(await store.accounts.verify("ann@example.test", "a new long password")).not.toBeNull();
    expect((await call("GET", "/api/v1/accounts/nobody@example.test")).status).toBe(404);
    expect(
      (await call("POST", "/api/v1/aliases", {
        address: "team@example.test",
        targets: ["ann@example.test", "https://hooks.example/x"],
      })).status,
    ).toBe(201);
    expect(await (await call("GET", "/api/v1/aliases")).json()).toEqual([{
      address: "team@example.test",
      targets: ["ann@example.test", "https://hooks.example/x"],
      disabled: false,
      owner: null,
      forwarded: 0,
      refused: 0,
      lastUsedAt: null,
    }]);
    expect((await call("POST", "/api/v1/aliases", { address: "bad@example.test", targets: [] })).status).toBe(400);
    expect((await call("DELETE", "/api/v1/aliases/team@example.test")).status).toBe(204);
  });

  test("messages: newest first with cursor pagination, filters, parsed JSON, raw byte-equal", async () => {
    await call("POST", "/api/v1/accounts", { address: "bo@example.test", password: "long password" });
    const deliverer = new Deliverer(store, new Directory(store), { hostname: "mx.test", resolve: async () => [] });
    for (let i = 0; i < 120; i++) {
      const raw = `From: Sender ${i} <s${i}@remote.test>\r\nTo: bo@example.test\r\nSubject: message ${i}${
        i % 10 === 0 ? " special" : ""
      }\r\n\r\nbody ${i}\r\n`;
      sent.push(raw);
      await deliverer.deliver({
        sender: `s${i}@remote.test`,
        recipients: [{ address: "bo@example.test" }],
        raw: new TextEncoder().encode(raw),
        inbound: false,
        remoteIp: "127.0.0.1",
        helo: "t",
      });
    }
    const subjects: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await call(
        "GET",
        `/api/v1/accounts/bo@example.test/messages?limit=50${cursor ? `&cursor=${cursor}` : ""}`,
      );
      const page = (await res.json()) as { messages: Array<{ subject: string }>; nextCursor: string | null };
      subjects.push(...page.messages.map((m) => m.subject));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(subjects).toHaveLength(120);
    expect(subjects[0]).toBe("message 119");
    expect(subjects.at(-1)).toBe("message 0 special");

    const special = (await (await call("GET", "/api/v1/accounts/bo@example.test/messages?subject=special")).json()) as {
      messages: Array<{ id: number; from: unknown }>;
    };
    expect(special.messages).toHaveLength(12);
    const one = special.messages[0]!;
    expect(one.from).toEqual([{ name: "Sender 110", email: "s110@remote.test" }]);
    const unread =
      (await (await call("GET", "/api/v1/accounts/bo@example.test/messages?unread=true&limit=500")).json()) as {
        messages: unknown[];
      };
    expect(unread.messages).toHaveLength(120);
    expect((await call("GET", "/api/v1/accounts/bo@example.test/messages?limit=0")).status).toBe(400);
    const oldest =
      (await (await call("GET", "/api/v1/accounts/bo@example.test/messages?order=oldest&limit=2")).json()) as {
        messages: Array<{ subject: string }>;
        nextCursor: string;
      };
    expect(oldest.messages.map((m) => m.subject)).toEqual(["message 0 special", "message 1"]);
    const next = (await (await call(
      "GET",
      `/api/v1/accounts/bo@example.test/messages?order=oldest&limit=2&cursor=${oldest.nextCursor}`,
    )).json()) as { messages: Array<{ subject: string }> };
    expect(next.messages.map((m) => m.subject)).toEqual(["message 2", "message 3"]);
    const byText = (await (await call("GET", "/api/v1/accounts/bo@example.test/messages?text=body%2099")).json()) as {
      messages: Array<{ subject: string }>;
    };
    expect(byText.messages.map((m) => m.subject)).toEqual(["message 99"]);
    const future = (await (await call(
      "GET",
      `/api/v1/accounts/bo@example.test/messages?after=${new Date(Date.now() + 60_000).toISOString()}`,
    )).json()) as { messages: unknown[] };
    expect(future.messages).toEqual([]);
    expect((await call("GET", "/api/v1/accounts/bo@example.test/messages?after=yesterday")).status).toBe(400);

    const parsed = (await (await call("GET", `/api/v1/accounts/bo@example.test/messages/${one.id}`)).json()) as {
      text: string;
      subject: string;
    };
    expect(parsed.subject).toBe("message 110 special");
    expect(parsed.text).toBe("body 110\n");
    const raw = await call("GET", `/api/v1/accounts/bo@example.test/messages/${one.id}/raw`);
    expect(raw.headers.get("content-type")).toBe("message/rfc822");
    expect(await raw.text()).toBe(sent[110]!);
    // Another account cannot read it.
    expect((await call("GET", `/api/v1/accounts/ann@example.test/messages/${one.id}/raw`)).status).toBe(404);

    const boxes = (await (await call("GET", "/api/v1/accounts/bo@example.test/mailboxes")).json()) as Array<
      { name: string; total: number; unread: number }
    >;
    expect(boxes.find((b) => b.name === "INBOX")).toMatchObject({ total: 120, unread: 120 });

    // Flags and moves go through the change log like IMAP's.
    const flagged = await call("PATCH", `/api/v1/accounts/bo@example.test/messages/${one.id}`, {
      addFlags: ["\\Seen", "\\Flagged"],
    });
    expect(((await flagged.json()) as { flags: string[] }).flags).toEqual(["\\Seen", "\\Flagged"]);
    const onlyFlagged =
      (await (await call("GET", "/api/v1/accounts/bo@example.test/messages?flagged=true")).json()) as {
        messages: Array<{ id: number }>;
      };
    expect(onlyFlagged.messages.map((m) => m.id)).toEqual([one.id]);
    const moved = await call("PATCH", `/api/v1/accounts/bo@example.test/messages/${one.id}`, {
      mailbox: "Archive",
      removeFlags: ["\\Flagged"],
    });
    const movedJson = (await moved.json()) as { id: number; flags: string[]; mailboxId: number };
    expect(movedJson.flags).toEqual(["\\Seen"]);
    expect((await call("GET", `/api/v1/accounts/bo@example.test/messages?mailbox=Archive`)).status).toBe(200);
    expect(
      (await call("PATCH", `/api/v1/accounts/bo@example.test/messages/${movedJson.id}`, { mailbox: "Nowhere" })).status,
    ).toBe(400);
    expect((await call("DELETE", `/api/v1/accounts/bo@example.test/messages/${movedJson.id}`)).status).toBe(204);
    expect((await call("GET", `/api/v1/accounts/bo@example.test/messages/${movedJson.id}`)).status).toBe(404);
  });

  test("attachments download decoded, with their content type", async () => {
    const deliverer = new Deliverer(store, new Directory(store), { hostname: "mx.test", resolve: async () => [] });
    const raw =
      'Subject: with file\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee file\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="r.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQ=\r\n--b--\r\n';
    await deliverer.deliver({
      sender: "x@remote.test",
      recipients: [{ address: "bo@example.test" }],
      raw: new TextEncoder().encode(raw),
      inbound: false,
      remoteIp: "127.0.0.1",
      helo: "t",
    });
    const page =
      (await (await call("GET", "/api/v1/accounts/bo@example.test/messages?subject=with%20file")).json()) as {
        messages: Array<{ id: number }>;
      };
    const res = await call("GET", `/api/v1/accounts/bo@example.test/messages/${page.messages[0]!.id}/attachments/0`);
    expect(res.headers.get("content-type")).toBe("application/pdf");
    expect(res.headers.get("content-disposition")).toBe('attachment; filename="r.pdf"');
    expect(await res.text()).toBe("%PDF-1.4");
    expect(
      (await call("GET", `/api/v1/accounts/bo@example.test/messages/${page.messages[0]!.id}/attachments/5`)).status,
    ).toBe(404);
  });

  test("the outbound queue: list, inspect, retry, delete", async () => {
    const deliverer = new Deliverer(store, new Directory(store), { hostname: "mx.test", resolve: async () => [] });
    await deliverer.deliver({
      sender: "bo@example.test",
      recipients: [{ address: "far@away.test" }],
      raw: new TextEncoder().encode("Subject: q\r\n\r\nq\r\n"),
      inbound: false,
      remoteIp: "127.0.0.1",
      helo: "t",
      accountId: 1,
    });
    const listed = (await (await call("GET", "/api/v1/queue")).json()) as Array<
      { id: number; recipients: Array<{ recipient: string; status: string }> }
    >;
    expect(listed).toHaveLength(1);
    expect(listed[0]!.recipients).toMatchObject([{ recipient: "far@away.test", status: "queued" }]);
    expect((await call("GET", `/api/v1/queue/${listed[0]!.id}`)).status).toBe(200);
    expect((await call("POST", `/api/v1/queue/${listed[0]!.id}/retry`)).status).toBe(202);
    expect((await call("DELETE", `/api/v1/queue/${listed[0]!.id}`)).status).toBe(204);
    expect((await call("GET", `/api/v1/queue/${listed[0]!.id}`)).status).toBe(404);
    expect(await (await call("GET", "/api/v1/queue")).json()).toEqual([]);
  });

  test("API tokens: shown once, stored hashed, listed without the secret, revoked", async () => {
    const created =
      (await (await call("POST", "/api/v1/accounts/bo@example.test/tokens", { name: "mail app" })).json()) as {
        id: number;
        token: string;
      };
    expect(created.token).toMatch(/^pt_[A-Za-z0-9_-]{43}$/);
    expect(await store.tokens.verify(created.token)).toMatchObject({ address: "bo@example.test" });
    const listed = (await (await call("GET", "/api/v1/accounts/bo@example.test/tokens")).json()) as object[];
    expect(listed).toEqual([{ id: created.id, name: "mail app", createdAt: expect.any(String) }]);
    expect(JSON.stringify(listed)).not.toContain(created.token);
    expect((await call("DELETE", `/api/v1/accounts/bo@example.test/tokens/${created.id}`)).status).toBe(204);
    expect(await store.tokens.verify(created.token)).toBeNull();
  });

  test("unknown routes 404, wrong methods 405 with Allow, oversize bodies 413", async () => {
    expect((await call("GET", "/api/v1/nothing")).status).toBe(404);
    const wrong = await call("PUT", "/api/v1/domains");
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("GET, POST");
    const big = await app.request("/api/v1/domains", {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json", "content-length": "5000000" },
      body: JSON.stringify({ name: "x".repeat(10) }),
    });
    expect(big.status).toBe(413);
  });

  test("the OpenAPI 3.1 document lists every route with its schemas", async () => {
    const doc = (await (await app.request("/api/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { responses: object }>>;
    };
    expect(doc.openapi).toBe("3.1.0");
    const listed = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`)
    ).sort();
    expect(listed).toEqual([
      "DELETE /api/v1/accounts/{address}",
      "DELETE /api/v1/accounts/{address}/messages/{id}",
      "DELETE /api/v1/accounts/{address}/sieve/{name}",
      "DELETE /api/v1/accounts/{address}/tokens/{id}",
      "DELETE /api/v1/aliases/{address}",
      "DELETE /api/v1/domains/{name}",
      "DELETE /api/v1/me/aliases/{address}",
      "DELETE /api/v1/queue/{id}",
      "GET /api/v1/accounts",
      "GET /api/v1/accounts/{address}",
      "GET /api/v1/accounts/{address}/mailboxes",
      "GET /api/v1/accounts/{address}/messages",
      "GET /api/v1/accounts/{address}/messages/{id}",
      "GET /api/v1/accounts/{address}/messages/{id}/attachments/{index}",
      "GET /api/v1/accounts/{address}/messages/{id}/raw",
      "GET /api/v1/accounts/{address}/sieve",
      "GET /api/v1/accounts/{address}/sieve/{name}",
      "GET /api/v1/accounts/{address}/tokens",
      "GET /api/v1/activity",
      "GET /api/v1/aliases",
      "GET /api/v1/aliases/{address}",
      "GET /api/v1/domains",
      "GET /api/v1/me/aliases",
      "GET /api/v1/queue",
      "GET /api/v1/queue/{id}",
      "PATCH /api/v1/accounts/{address}",
      "PATCH /api/v1/accounts/{address}/messages/{id}",
      "PATCH /api/v1/aliases/{address}",
      "PATCH /api/v1/domains/{name}/owner-aliases",
      "PATCH /api/v1/domains/{name}/reverse-aliases",
      "PATCH /api/v1/me/aliases/{address}",
      "POST /api/v1/accounts",
      "POST /api/v1/accounts/{address}/sieve/deactivate",
      "POST /api/v1/accounts/{address}/sieve/{name}/activate",
      "POST /api/v1/accounts/{address}/tokens",
      "POST /api/v1/aliases",
      "POST /api/v1/domains",
      "POST /api/v1/me/aliases",
      "POST /api/v1/queue/retry",
      "POST /api/v1/queue/{id}/hold",
      "POST /api/v1/queue/{id}/release",
      "POST /api/v1/queue/{id}/retry",
      "PUT /api/v1/accounts/{address}/sieve/{name}",
    ]);
    // Validated against the official OpenAPI 3.1 JSON schema.
    const result = await new Validator().validate(doc as never);
    expect({ valid: result.valid, errors: result.errors }).toEqual({ valid: true, errors: undefined });
    const post = doc.paths["/api/v1/domains"]!.post as unknown as {
      requestBody: { content: { "application/json": { schema: { properties: object } } } };
    };
    expect(Object.keys(post.requestBody.content["application/json"].schema.properties)).toEqual(["name", "kind"]);
  });
});
