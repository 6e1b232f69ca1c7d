import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Directory } from "../../src/deliver/directory.ts";
import { Srs } from "../../src/forward/srs.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;

beforeEach(async () => {
  const temp = await openTempStore();
  store = temp.store;
  cleanup = temp.cleanup;
  await store.domains.add("example.test");
  await store.accounts.add({ address: "bob@example.test", password: "long enough password" });
  await store.domains.add("fwd.test", "forward");
  await store.aliases.add("@fwd.test", ["bob@example.test"]);
});
afterEach(() => cleanup());

describe("Directory", () => {
  test("plus-addressing follows the configured delimiter, and can be turned off", async () => {
    expect(await new Directory(store).resolve("bob+news@example.test")).toMatchObject({
      kind: "account",
      address: "bob@example.test",
    });
    expect(await new Directory(store, { separator: "-" }).resolve("bob-news@example.test")).toMatchObject({
      kind: "account",
    });
    expect(await new Directory(store, { separator: "" }).resolve("bob+news@example.test")).toMatchObject({
      kind: "unknown",
    });
  });

  test("catch-alls, remote domains, and our SRS addresses", async () => {
    const srs = new Srs({ secret: "directory-test-secret", domain: "mx.example.test" });
    const directory = new Directory(store, { srs, srsDomain: "mx.example.test" });
    expect(await directory.resolve("anyone@fwd.test")).toMatchObject({ kind: "alias", targets: ["bob@example.test"] });
    expect(await directory.resolve("x@elsewhere.test")).toEqual({ kind: "remote", address: "x@elsewhere.test" });
    const rewritten = srs.forward("carol@origin.test");
    expect(await directory.resolve(rewritten)).toMatchObject({ kind: "srs", target: "carol@origin.test" });
    expect(await directory.resolve(rewritten.replace(/^SRS0=..../, "SRS0=AAAA"))).toMatchObject({ kind: "forged" });
  });

  test("an SRS address longer than 64 octets, at a hyphenated sender domain, is still ours", async () => {
    const srs = new Srs({ secret: "directory-test-secret", domain: "mx.example.test" });
    const directory = new Directory(store, { srs, srsDomain: "mx.example.test" });
    const sender = "a.rather.long-local-part+tag@mail.some-hyphenated-domain.example";
    const rewritten = srs.forward(sender);
    expect(rewritten.indexOf("@")).toBeGreaterThan(64);
    expect(await directory.resolve(rewritten)).toMatchObject({ kind: "srs", target: sender });
    expect(await directory.resolve(rewritten.replace("@mx.example.test", "@MX.Example.Test."))).toMatchObject({
      kind: "srs",
      target: sender,
    });
  });

  test("a local part past 64 octets (SMTP takes up to 255) reaches a catch-all, is unknown at a domain without one, and stays remote elsewhere", async () => {
    const directory = new Directory(store);
    const long = `${"long-local-part.".repeat(6)}end`;
    expect(long.length).toBeGreaterThan(64);
    expect(await directory.resolve(`${long}@fwd.test`)).toMatchObject({ kind: "alias", targets: ["bob@example.test"] });
    expect(await directory.resolve(`${long}@example.test`)).toEqual({
      kind: "unknown",
      address: `${long}@example.test`,
    });
    expect(await directory.resolve(`${long}@Elsewhere.test`)).toEqual({
      kind: "remote",
      address: `${long}@elsewhere.test`,
    });
  });
});
