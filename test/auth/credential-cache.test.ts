/**
 * The cache of verified credentials: alone with a fake verifier and clock, then on the login path
 * (`checkPassword` over a real store) with scrypt counted, where the password is changed through
 * a second store on the same database as `postern user passwd` does from its own process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { CredentialCache, type PasswordVerifier } from "../../src/auth/credential-cache.ts";
import { verifyPassword } from "../../src/auth/password.ts";
import { AuthThrottle } from "../../src/auth/throttle.ts";
import { checkPassword } from "../../src/backends/password.ts";
import { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

/** A verifier that counts its calls: "hash:<password>" is the stored form of each password. */
function fakeVerifier(): PasswordVerifier & { calls: number } {
  const verify = Object.assign(async (password: string, stored: string) => {
    verify.calls++;
    await Bun.sleep(5);
    return stored === `hash:${password}`;
  }, { calls: 0 });
  return verify;
}

describe("CredentialCache", () => {
  test("a verified password is answered from the cache while the stored hash is the same", async () => {
    const verify = fakeVerifier();
    const cache = new CredentialCache({ verify });
    expect(await cache.check("ann", "pw", "hash:pw")).toBe(true);
    expect(await cache.check("ann", "pw", "hash:pw")).toBe(true);
    expect(await cache.check("ann", "pw", "hash:pw")).toBe(true);
    expect(verify.calls).toBe(1);
    expect(cache.stats).toEqual({ hits: 2, verified: 1 });
    // Another stored hash (the password was set again): checked anew, and the old entry is gone.
    expect(await cache.check("ann", "pw", "hash:other")).toBe(false);
    expect(await cache.check("ann", "pw", "hash:pw")).toBe(true);
    expect(verify.calls).toBe(3);
  });

  test("failures are never remembered", async () => {
    const verify = fakeVerifier();
    const cache = new CredentialCache({ verify });
    expect(await cache.check("ann", "wrong", "hash:pw")).toBe(false);
    expect(await cache.check("ann", "wrong", "hash:pw")).toBe(false);
    expect(verify.calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  test("entries expire after the TTL, counted from the verification", async () => {
    let now = 0;
    const verify = fakeVerifier();
    const cache = new CredentialCache({ verify, ttlMs: 1000, now: () => now });
    await cache.check("ann", "pw", "hash:pw");
    now = 999;
    await cache.check("ann", "pw", "hash:pw");
    expect(verify.calls).toBe(1);
    now = 1000;
    await cache.check("ann", "pw", "hash:pw");
    expect(verify.calls).toBe(2);
  });

  test("the name is part of the key, unambiguously", async () => {
    const verify = fakeVerifier();
    const cache = new CredentialCache({ verify });
    await cache.check("ab", "c", "hash:c");
    // Same hash, other account: a cached ("ab", "c") must not answer for ("a", "bc") or ("abc", "").
    expect(await cache.check("a", "bc", "hash:c")).toBe(false);
    expect(await cache.check("abc", "", "hash:c")).toBe(false);
    expect(verify.calls).toBe(3);
  });

  test("the size is bounded, oldest first", async () => {
    const verify = fakeVerifier();
    const cache = new CredentialCache({ verify, maxEntries: 2 });
    for (const name of ["a", "b", "c"]) await cache.check(name, "pw", "hash:pw");
    expect(cache.size).toBe(2);
    await cache.check("c", "pw", "hash:pw");
    await cache.check("b", "pw", "hash:pw");
    expect(verify.calls).toBe(3);
    await cache.check("a", "pw", "hash:pw");
    expect(verify.calls).toBe(4);
  });

  test("simultaneous checks of one password share one verification", async () => {
    const verify = fakeVerifier();
    const cache = new CredentialCache({ verify });
    const answers = await Promise.all(Array.from({ length: 5 }, () => cache.check("ann", "pw", "hash:pw")));
    expect(answers).toEqual([true, true, true, true, true]);
    expect(verify.calls).toBe(1);
  });
});

describe("checkPassword with the cache, over a real store", () => {
  let opened: Awaited<ReturnType<typeof openTempStore>>;
  /** The same database through another Store, as another process (`postern user passwd`) sees it. */
  let other: Store;
  const throttle = () => new AuthThrottle({ threshold: 100, counters: opened.store.policy });
  let scryptCalls = 0;
  const scrypt: PasswordVerifier = (password, stored) => {
    scryptCalls++;
    return verifyPassword(password, stored);
  };

  beforeAll(async () => {
    opened = await openTempStore();
    other = await Store.open({ url: `file:${opened.path}/postern.db` });
    await opened.store.domains.add("example.test");
    for (const address of ["ann@example.test", "bob@example.test", "cy@example.test"]) {
      await opened.store.accounts.add({ address, password: "first password" });
    }
  });

  afterAll(() => {
    other?.close();
    opened?.cleanup();
  });

  const login = (cache: CredentialCache, user: string, password: string) =>
    checkPassword(opened.store, throttle(), user, password, "192.0.2.1", cache).then((
      a,
    ) => (a === "banned" ? null : a));

  test("the second login skips scrypt; a password changed elsewhere is refused at once, the new one accepted", async () => {
    scryptCalls = 0;
    const cache = new CredentialCache({ verify: scrypt });
    expect((await login(cache, "ann@example.test", "first password"))?.address).toBe("ann@example.test");
    expect(scryptCalls).toBe(1);
    // Another spelling of the same account finds the same entry.
    expect((await login(cache, "Ann@Example.test", "first password"))?.address).toBe("ann@example.test");
    expect(scryptCalls).toBe(1);

    await other.accounts.setPassword("ann@example.test", "second password");
    expect(await login(cache, "ann@example.test", "first password")).toBeNull();
    expect(scryptCalls).toBe(2);
    expect((await login(cache, "ann@example.test", "second password"))?.address).toBe("ann@example.test");
    expect((await login(cache, "ann@example.test", "second password"))?.address).toBe("ann@example.test");
    expect(scryptCalls).toBe(3);
  });

  test("a wrong password runs scrypt every time", async () => {
    scryptCalls = 0;
    const cache = new CredentialCache({ verify: scrypt });
    expect(await login(cache, "bob@example.test", "not it")).toBeNull();
    expect(await login(cache, "bob@example.test", "not it")).toBeNull();
    expect(scryptCalls).toBe(2);
    expect(cache.size).toBe(0);
  });

  test("a disabled or removed account is refused at once, though its password is cached", async () => {
    scryptCalls = 0;
    const cache = new CredentialCache({ verify: scrypt });
    expect(await login(cache, "cy@example.test", "first password")).not.toBeNull();
    await opened.sql("UPDATE accounts SET disabled = 1 WHERE address = 'cy@example.test'");
    expect(await login(cache, "cy@example.test", "first password")).toBeNull();
    await opened.sql("UPDATE accounts SET disabled = 0 WHERE address = 'cy@example.test'");
    expect(await login(cache, "cy@example.test", "first password")).not.toBeNull();
    expect(scryptCalls).toBe(1);
    await other.accounts.remove("cy@example.test");
    expect(await login(cache, "cy@example.test", "first password")).toBeNull();
  });

  test("a cached login still clears the account's failures, and a refused one counts", async () => {
    const cache = new CredentialCache();
    await login(cache, "bob@example.test", "first password");
    await login(cache, "bob@example.test", "wrong");
    expect(await opened.sql("SELECT count FROM rate_counters WHERE key = 'auth-user|bob@example.test'")).toEqual([
      { count: 1 },
    ]);
    await login(cache, "bob@example.test", "first password");
    expect(await opened.sql("SELECT count FROM rate_counters WHERE key = 'auth-user|bob@example.test'")).toEqual([]);
  });
});
