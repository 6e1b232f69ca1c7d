/**
 * Reverse aliases in the directory and at delivery (issue 19): a reverse address resolves to its
 * alias, correspondent and owners only at a domain that has them on, while its alias forwards;
 * the owner's copy gets the rewritten Reply-To (others keep the message as it came); a reply
 * from a non-owner is refused, an owner's leaves from the alias in its own queue entry.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Deliverer, DeliveryRefused } from "../../src/deliver/deliverer.ts";
import { Directory } from "../../src/deliver/directory.ts";
import { Srs } from "../../src/forward/srs.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;
let directory: Directory;
let deliverer: Deliverer;
let owner: number;
let other: number;

beforeEach(async () => {
  ({ store, cleanup } = await openTempStore());
  await store.domains.add("example.test");
  owner = (await store.accounts.add({ address: "me@example.test", password: "long enough password" })).id;
  other = (await store.accounts.add({ address: "ann@example.test", password: "long enough password" })).id;
  await store.domains.add("fwd.test", "forward");
  await store.aliases.add("friend@fwd.test", ["me@example.test"]);
  await store.aliases.reverse.enable("fwd.test", true);
  const srs = new Srs({ secret: "reverse-alias-unit-secret", domain: "mx.test" });
  directory = new Directory(store, { srs, srsDomain: "mx.test" });
  deliverer = new Deliverer(store, directory, { hostname: "mx.test", resolve: async () => [], srs });
});
afterEach(() => cleanup());

const dec = new TextDecoder();
const message = (recipients: string[], raw: string, accountId?: number) => ({
  sender: accountId ? "me@example.test" : "jane@origin.test",
  recipients: recipients.map((address) => ({ address })),
  raw: new TextEncoder().encode(raw),
  inbound: false,
  accountId,
  authenticatedAs: accountId ? "me@example.test" : undefined,
  remoteIp: "127.0.0.1",
  helo: "origin.test",
});

async function inbox(accountId: number): Promise<string[]> {
  const box = await store.mailboxes.byRole(accountId, "inbox");
  const uids = (await store.messages.list(box!.id)).map((r) => r.uid);
  return [...(await store.messages.raws(box!.id, uids)).values()].map((r) => dec.decode(r));
}

const incoming =
  "From: Jane <jane@origin.test>\r\nTo: friend@fwd.test, ann@example.test\r\nSubject: hi\r\n\r\nhello\r\n";

describe("reverse aliases", () => {
  test("the owner's copy names a reverse address that resolves to alias, correspondent and owner", async () => {
    await deliverer.deliver(message(["friend@fwd.test", "ann@example.test"], incoming));
    const [mine] = await inbox(owner);
    const [hers] = await inbox(other);
    expect(hers).toBe(incoming);
    const reverse = /^Reply-To: "Jane" <(r\+[a-z2-7]{20}@fwd\.test)>\r$/m.exec(mine!)?.[1];
    expect(reverse).toBeDefined();
    expect(await directory.resolve(reverse!)).toMatchObject({
      kind: "reverse",
      alias: "friend@fwd.test",
      correspondent: "jane@origin.test",
      owners: [owner],
    });
    // Off for the domain, or the alias disabled: the address is unknown.
    await store.aliases.reverse.enable("fwd.test", false);
    expect(await directory.resolve(reverse!)).toMatchObject({ kind: "unknown" });
    await store.aliases.reverse.enable("fwd.test", true);
    await store.aliases.setDisabled("friend@fwd.test", true);
    expect(await directory.resolve(reverse!)).toMatchObject({ kind: "unknown" });
  });

  test("a reply from another account is refused; the owner's leaves from the alias in an entry of its own", async () => {
    await deliverer.deliver(message(["friend@fwd.test"], incoming));
    const reverse = /<(r\+[a-z2-7]{20}@fwd\.test)>/.exec((await inbox(owner))[0]!)![1]!;
    const reply = `From: me@example.test\r\nTo: ${reverse}\r\nCc: bob@else.test\r\nSubject: re\r\n\r\nthanks\r\n`;
    const refused = await deliverer.deliver(message([reverse], reply, other)).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DeliveryRefused);
    expect(refused).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(await deliverer.deliver(message([reverse], reply)).catch((e: unknown) => e)).toBeInstanceOf(
      DeliveryRefused,
    );
    expect(await store.queue.list()).toEqual([]);

    await deliverer.deliver(message([reverse, "bob@else.test"], reply, owner));
    const queued = await store.queue.list();
    const fromAlias = queued.find((q) => q.sender === "friend@fwd.test")!;
    const direct = queued.find((q) => q.sender === "me@example.test")!;
    expect(fromAlias.recipients.map((r) => r.recipient)).toEqual(["jane@origin.test"]);
    expect(direct.recipients.map((r) => r.recipient)).toEqual(["bob@else.test"]);
    expect(fromAlias.blobHash).not.toBe(direct.blobHash);
    const sent = dec.decode(await store.emails.readBlob(fromAlias.blobHash));
    expect(sent).toContain("From: friend@fwd.test\r\n");
    expect(sent).toContain("To: jane@origin.test\r\n");
    expect(sent).not.toContain("me@example.test");
  });
});
