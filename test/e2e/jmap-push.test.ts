/**
 * JMAP PushSubscription (RFC 8620 §7.2, issue 17 item 9) against a local HTTP endpoint: the
 * PushVerification sent on create, no push before the code is set back, StateChange pushes after,
 * only of the types asked for; url and keys never returned; expires capped and honoured; another
 * account sees none of it; subscriptions are in the database.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;
let inbox: string;
let endpoint: ReturnType<typeof Bun.serve>;
/** Every JSON object POSTed to the endpoint, by path; encrypted ones are kept as they came. */
const received: Array<{ path: string; body: Record<string, unknown>; encrypted?: Uint8Array }> = [];

beforeAll(async () => {
  endpoint = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const path = new URL(request.url).pathname;
      // A push service's answer for a subscription that is gone (RFC 8030 §7.3).
      if (path === "/gone") return new Response(null, { status: 410 });
      if (request.headers.get("content-encoding") === "aes128gcm") {
        received.push({ path, body: {}, encrypted: new Uint8Array(await request.arrayBuffer()) });
      } else received.push({ path, body: (await request.json()) as Record<string, unknown> });
      return new Response(null, { status: 201 });
    },
  });
  mail = await startMailServer({
    waitFor: ["http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
    // The push endpoint of these tests is on loopback (issue 18: private targets need the switch).
    config: { outbound: { allowPrivateTargets: ["127.0.0.1", "::1"] } },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
  inbox = (await jo.roles()).inbox!;
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  endpoint?.stop(true);
});

const url = (path: string) => `http://127.0.0.1:${endpoint.port}${path}`;

/** PushSubscription calls take no accountId (§7.2). */
async function call(session: JmapSession, method: string, args: Record<string, unknown>) {
  const responses = await session.request([[method, args, "c"]], ["urn:ietf:params:jmap:core"]);
  // deno-lint-ignore no-explicit-any -- the response shapes of this file, read as the test goes
  return responses[0]![1] as Record<string, any>;
}

async function waitFor(path: string, count: number, ms = 5000) {
  const started = Date.now();
  while (received.filter((r) => r.path === path).length < count && Date.now() - started < ms) await Bun.sleep(20);
  return received.filter((r) => r.path === path).map((r) => r.body);
}

/**
 * The user agent's side of RFC 8291 with WebCrypto's HKDF (the server uses node:crypto HMACs): a
 * P-256 key pair and an auth secret, and decryption of what arrives.
 */
async function userAgent() {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, [
    "deriveBits",
  ])) as CryptoKeyPair;
  const uaPublic = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const auth = crypto.getRandomValues(new Uint8Array(16));
  const hkdf = async (salt: Uint8Array, ikm: Uint8Array, info: Uint8Array, bytes: number) =>
    new Uint8Array(
      await crypto.subtle.deriveBits(
        { name: "HKDF", hash: "SHA-256", salt: salt as Uint8Array<ArrayBuffer>, info: info as Uint8Array<ArrayBuffer> },
        await crypto.subtle.importKey("raw", ikm as Uint8Array<ArrayBuffer>, "HKDF", false, ["deriveBits"]),
        bytes * 8,
      ),
    );
  const text = (s: string) => new TextEncoder().encode(s);
  return {
    keys: { p256dh: Buffer.from(uaPublic).toString("base64url"), auth: Buffer.from(auth).toString("base64url") },
    async decrypt(body: Uint8Array): Promise<Record<string, unknown>> {
      const salt = body.subarray(0, 16);
      const asPublic = body.subarray(21, 21 + body[20]!);
      const sender = await crypto.subtle.importKey(
        "raw",
        asPublic as Uint8Array<ArrayBuffer>,
        { name: "ECDH", namedCurve: "P-256" },
        false,
        [],
      );
      const secret = new Uint8Array(
        await crypto.subtle.deriveBits({ name: "ECDH", public: sender }, pair.privateKey, 256),
      );
      const ikm = await hkdf(auth, secret, Buffer.concat([text("WebPush: info\0"), uaPublic, asPublic]), 32);
      const cek = await hkdf(salt, ikm, text("Content-Encoding: aes128gcm\0"), 16);
      const nonce = await hkdf(salt, ikm, text("Content-Encoding: nonce\0"), 12);
      const key = await crypto.subtle.importKey("raw", cek, "AES-GCM", false, ["decrypt"]);
      const record = new Uint8Array(
        await crypto.subtle.decrypt(
          { name: "AES-GCM", iv: nonce },
          key,
          body.subarray(21 + body[20]!) as Uint8Array<ArrayBuffer>,
        ),
      );
      // RFC 8188 §2: the last record ends with 0x02, then any zero padding.
      let end = record.length;
      while (end > 0 && record[end - 1] === 0) end--;
      expect(record[end - 1]).toBe(2);
      return JSON.parse(new TextDecoder().decode(record.subarray(0, end - 1)));
    },
  };
}

async function importOne(subject: string) {
  const { blobId } = await jo.upload(`Subject: ${subject}\r\n\r\nbody\r\n`, "message/rfc822");
  await jo.call("Email/import", { emails: { m: { blobId, mailboxIds: { [inbox]: true } } } });
}

describe(`JMAP PushSubscription on ${runtime()}`, () => {
  test("verification, then StateChange pushes of the types asked for", async () => {
    const made = await call(jo, "PushSubscription/set", {
      create: { p: { deviceClientId: "phone", url: url("/a"), types: ["Email", "Mailbox"] } },
    });
    expect(made.accountId).toBeUndefined();
    expect(made.oldState).toBeUndefined();
    const { id, expires } = made.created.p;
    // §7.2: the server may shorten expires; it says what it chose.
    expect(Date.parse(expires) - Date.now()).toBeLessThanOrEqual(7 * 24 * 3600 * 1000);
    const [verification] = await waitFor("/a", 1);
    expect(verification).toEqual({
      "@type": "PushVerification",
      pushSubscriptionId: id,
      verificationCode: expect.any(String),
    });

    // Not verified yet: a change pushes nothing.
    await importOne("before verification");
    await Bun.sleep(500);
    expect(await waitFor("/a", 2, 0)).toHaveLength(1);

    const wrong = await call(jo, "PushSubscription/set", { update: { [id]: { verificationCode: "guess" } } });
    expect(wrong.notUpdated[id]).toMatchObject({ type: "invalidProperties", properties: ["verificationCode"] });
    const right = await call(jo, "PushSubscription/set", {
      update: { [id]: { verificationCode: verification!.verificationCode } },
    });
    expect(right.updated).toEqual({ [id]: null });

    await importOne("after verification");
    const [, change] = await waitFor("/a", 2);
    const state = ((await jo.call("Email/get", { ids: [] })) as { state: string }).state;
    expect(change).toEqual({
      "@type": "StateChange",
      changed: { [jo.accountId]: { Email: state, Mailbox: state } },
    });

    const got = await call(jo, "PushSubscription/get", { ids: null });
    expect(got.list).toEqual([{
      id,
      deviceClientId: "phone",
      verificationCode: verification!.verificationCode,
      expires,
      types: ["Email", "Mailbox"],
    }]);
    // §7.2: url and keys are private to the device.
    expect((await call(jo, "PushSubscription/get", { properties: ["url"] })).type).toBe("forbidden");
  });

  test("with keys, every push is encrypted (RFC 8620 §7.2, RFC 8291 aes128gcm)", async () => {
    const ua = await userAgent();
    const made = await call(jo, "PushSubscription/set", {
      create: { p: { deviceClientId: "browser", url: url("/e"), keys: ua.keys, types: ["Email"] } },
    });
    const { id } = made.created.p;
    await waitFor("/e", 1);
    const [sealed] = received.filter((r) => r.path === "/e");
    expect(sealed!.encrypted).toBeDefined();
    const verification = await ua.decrypt(sealed!.encrypted!);
    expect(verification).toMatchObject({ "@type": "PushVerification", pushSubscriptionId: id });
    await call(jo, "PushSubscription/set", { update: { [id]: { verificationCode: verification.verificationCode } } });
    await importOne("for the browser");
    await waitFor("/e", 2);
    const change = await ua.decrypt(received.filter((r) => r.path === "/e")[1]!.encrypted!);
    expect(change).toMatchObject({
      "@type": "StateChange",
      changed: { [jo.accountId]: { Email: expect.any(String) } },
    });
    // keys are private to the device (§7.2).
    expect((await call(jo, "PushSubscription/get", { ids: [id] })).list[0].keys).toBeUndefined();
    await call(jo, "PushSubscription/set", { destroy: [id] });
  });

  test("a 410 from the push service destroys the subscription; an account has at most 50", async () => {
    const made = await call(jo, "PushSubscription/set", {
      create: { p: { deviceClientId: "old", url: url("/gone") } },
    });
    const { id } = made.created.p;
    const started = Date.now();
    let list: unknown[] = [{}];
    while (list.length && Date.now() - started < 5000) {
      list = (await call(jo, "PushSubscription/get", { ids: [id] })).list;
      await Bun.sleep(50);
    }
    expect(list).toEqual([]);

    const many = Object.fromEntries(
      Array.from({ length: 51 }, (_, i) => [`s${i}`, { deviceClientId: `d${i}`, url: url("/many") }]),
    );
    const capped = await call(kim, "PushSubscription/set", { create: many });
    expect(Object.keys(capped.created)).toHaveLength(50);
    expect(capped.notCreated.s50.type).toBe("overQuota");
    await call(kim, "PushSubscription/set", {
      destroy: Object.values(capped.created as Record<string, { id: string }>).map((c) => c.id),
    });
  });

  test("a subscription is checked whole when created", async () => {
    const made = await call(jo, "PushSubscription/set", {
      create: {
        http: { deviceClientId: "d", url: "http://push.example.test/x" },
        scheme: { deviceClientId: "d", url: "ftp://127.0.0.1/x" },
        code: { deviceClientId: "d", url: url("/b"), verificationCode: "mine" },
        keys: { deviceClientId: "d", url: url("/b"), keys: { p256dh: "x", auth: "y" } },
        past: { deviceClientId: "d", url: url("/b"), expires: "2001-01-01T00:00:00Z" },
        device: { url: url("/b") },
        id: { id: "P1", deviceClientId: "d", url: url("/b") },
      },
    });
    expect(made.created).toEqual({});
    const property = Object.fromEntries(
      Object.entries(made.notCreated as Record<string, { type: string; properties: string[] }>).map((
        [k, e],
      ) => [k, `${e.type} ${e.properties}`]),
    );
    expect(property).toEqual({
      http: "invalidProperties url",
      scheme: "invalidProperties url",
      code: "invalidProperties verificationCode",
      keys: "invalidProperties keys",
      past: "invalidProperties expires",
      device: "invalidProperties deviceClientId",
      id: "invalidProperties id",
    });
  });

  test("expires is honoured: no push after it", async () => {
    const made = await call(jo, "PushSubscription/set", {
      create: { p: { deviceClientId: "tablet", url: url("/c") } },
    });
    const { id } = made.created.p;
    const [verification] = await waitFor("/c", 1);
    const soon = new Date(Math.ceil((Date.now() + 2000) / 1000) * 1000).toISOString().replace(".000Z", "Z");
    const set = await call(jo, "PushSubscription/set", {
      update: { [id]: { verificationCode: verification!.verificationCode, expires: soon } },
    });
    expect(set.updated).toEqual({ [id]: null });
    await importOne("while live");
    expect(await waitFor("/c", 2)).toHaveLength(2);
    await Bun.sleep(Date.parse(soon) - Date.now() + 200);
    await importOne("after expiry");
    await Bun.sleep(500);
    expect(await waitFor("/c", 3, 0)).toHaveLength(2);
  });

  test("another account sees, changes and destroys none of them; destroy stops the pushes", async () => {
    const mine = (await call(jo, "PushSubscription/get", {})).list as Array<{ id: string }>;
    expect(mine.length).toBeGreaterThan(0);
    const ids = mine.map((s) => s.id);
    expect(await call(kim, "PushSubscription/get", { ids })).toEqual({ list: [], notFound: ids });
    const meddled = await call(kim, "PushSubscription/set", {
      update: { [ids[0]!]: { types: null } },
      destroy: ids,
    });
    expect(meddled.destroyed).toEqual([]);
    expect(Object.values(meddled.notDestroyed).map((e) => (e as { type: string }).type)).toEqual(
      ids.map(() => "notFound"),
    );
    expect(meddled.notUpdated[ids[0]!].type).toBe("notFound");

    const before = received.filter((r) => r.path === "/a").length;
    expect((await call(jo, "PushSubscription/set", { destroy: ids })).destroyed).toEqual(ids);
    await importOne("after destroy");
    await Bun.sleep(500);
    expect(received.filter((r) => r.path === "/a").length).toBe(before);
    expect((await call(jo, "PushSubscription/get", {})).list).toEqual([]);
  });

  test("a verified subscription is in the database: it pushes after a restart", async () => {
    const made = await call(jo, "PushSubscription/set", {
      create: { p: { deviceClientId: "laptop", url: url("/r") } },
    });
    const { id } = made.created.p;
    const [verification] = await waitFor("/r", 1);
    await call(jo, "PushSubscription/set", { update: { [id]: { verificationCode: verification!.verificationCode } } });
    await mail.server.restart();
    // New ports: new sessions.
    jo = await jmapSession(mail, "jo@example.test", "jo-password");
    await importOne("after restart");
    const [, change] = await waitFor("/r", 2);
    expect(change).toMatchObject({
      "@type": "StateChange",
      changed: { [jo.accountId]: { Email: expect.any(String) } },
    });
  }, 60_000);

  test("PushSubscription methods are core: arguments are checked, no accountId needed", async () => {
    expect((await call(jo, "PushSubscription/set", { destroy: "P1" })).type).toBe("invalidArguments");
    expect((await call(jo, "PushSubscription/get", { ids: ["P999"] })).notFound).toEqual(["P999"]);
  });
});
