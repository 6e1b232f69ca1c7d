/**
 * Webmail and admin console sessions in the store (issue 22): idle timeout, revocation, disabled accounts, expiry of old
 * rows, the admin flag.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import { openTempStore } from "../helpers/store.ts";

let t: Awaited<ReturnType<typeof openTempStore>>;
let accountId: number;

beforeEach(async () => {
  t = await openTempStore();
  await t.store.domains.add("example.test");
  accountId = (await t.store.accounts.add({ address: "jo@example.test", password: "jo-password" })).id;
});
afterEach(() => t.cleanup());

const MINUTE = 60_000;

test("a session keeps only the token's hash, and works until it is idle for too long", async () => {
  const { token, csrf } = await t.store.webSessions.create(accountId);
  const rows = await t.sql("SELECT id, csrf FROM web_sessions");
  expect(rows).toHaveLength(1);
  expect(rows[0]!.id).not.toBe(token);
  expect(rows[0]!.csrf).toBe(csrf);

  const now = Date.now();
  expect(await t.store.webSessions.use(token, 30 * MINUTE, new Date(now + 20 * MINUTE))).toEqual({
    accountId,
    address: "jo@example.test",
    csrf,
    admin: false,
  });
  // Used at +20 min: idle is counted from then.
  expect(await t.store.webSessions.use(token, 30 * MINUTE, new Date(now + 45 * MINUTE))).not.toBeNull();
  expect(await t.store.webSessions.use(token, 30 * MINUTE, new Date(now + 80 * MINUTE))).toBeNull();
  expect(await t.count("web_sessions")).toBe(0);
  expect(await t.store.webSessions.use("not-a-token", 30 * MINUTE)).toBeNull();
});

test("revoking ends one session; expire removes idle rows; removing the account removes the rest", async () => {
  const a = await t.store.webSessions.create(accountId);
  const b = await t.store.webSessions.create(accountId);
  await t.store.webSessions.revoke(a.token);
  expect(await t.store.webSessions.use(a.token, 30 * MINUTE)).toBeNull();
  expect(await t.store.webSessions.use(b.token, 30 * MINUTE)).not.toBeNull();

  await t.store.webSessions.create(accountId);
  expect(await t.store.webSessions.expire(30 * MINUTE, new Date(Date.now() + 31 * MINUTE))).toBe(2);
  expect(await t.count("web_sessions")).toBe(0);

  const c = await t.store.webSessions.create(accountId);
  await t.store.accounts.remove("jo@example.test");
  expect(await t.store.webSessions.use(c.token, 30 * MINUTE)).toBeNull();
  expect(await t.count("web_sessions")).toBe(0);
});

test("a new password signs the account out of the webmail", async () => {
  const { token } = await t.store.webSessions.create(accountId);
  await t.store.accounts.setPassword("jo@example.test", "a-new-password");
  expect(await t.store.webSessions.use(token, 30 * MINUTE)).toBeNull();
});

test("an admin console session lasts while the account is admin; taking the flag away ends it, not the webmail's", async () => {
  expect((await t.store.accounts.get("jo@example.test"))!.admin).toBe(false);
  await t.store.accounts.setAdmin("jo@example.test", true);
  expect((await t.store.accounts.get("jo@example.test"))!.admin).toBe(true);
  const console = await t.store.webSessions.create(accountId, true);
  const mail = await t.store.webSessions.create(accountId);
  expect(await t.store.webSessions.use(console.token, 30 * MINUTE)).toMatchObject({ admin: true });
  expect(await t.store.webSessions.use(mail.token, 30 * MINUTE)).toMatchObject({ admin: false });

  await t.store.accounts.setAdmin("jo@example.test", false);
  expect(await t.store.webSessions.use(console.token, 30 * MINUTE)).toBeNull();
  expect(await t.store.webSessions.use(mail.token, 30 * MINUTE)).not.toBeNull();
  expect(await t.count("web_sessions")).toBe(1);
  await expect(t.store.accounts.setAdmin("nobody@example.test", true)).rejects.toThrow("No such account");
});
