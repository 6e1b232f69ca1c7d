/**
 * Junk is not forwarded (issue 19): a message the policy pipeline (or DMARC quarantine) calls junk
 * is refused with 550 5.7.1 when it would only be forwarded, and beside local recipients only
 * they get it (in Junk); nothing is queued for the alias targets.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { Deliverer, DeliveryRefused } from "../../src/deliver/deliverer.ts";
import { Directory } from "../../src/deliver/directory.ts";
import type { Store } from "../../src/store/store.ts";
import { openTempStore } from "../helpers/store.ts";

let store: Store;
let cleanup: () => void;
let deliverer: Deliverer;

beforeEach(async () => {
  ({ store, cleanup } = await openTempStore());
  await store.domains.add("example.test");
  await store.accounts.add({ address: "ann@example.test", password: "long enough password" });
  await store.domains.add("fwd.test", "forward");
  await store.aliases.add("friend@fwd.test", ["me@elsewhere.test", "https://hooks.example/in"]);
  deliverer = new Deliverer(store, new Directory(store), { hostname: "mx.test", resolve: async () => [] });
});
afterEach(() => cleanup());

const message = (recipients: string[], junk: boolean) => ({
  sender: "spammer@origin.test",
  recipients: recipients.map((address) => ({ address })),
  junk,
  raw: new TextEncoder().encode("From: spammer@origin.test\r\nSubject: buy now\r\n\r\nbuy\r\n"),
  inbound: false,
  remoteIp: "127.0.0.1",
  helo: "origin.test",
});

describe("junk and forwarding", () => {
  test("junk only for an alias is refused with 550 5.7.1 and nothing is queued", async () => {
    const error = await deliverer.deliver(message(["friend@fwd.test"], true)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeliveryRefused);
    expect(error).toMatchObject({ code: 550, enhanced: "5.7.1" });
    expect(await store.queue.list()).toEqual([]);
  });

  test("junk beside a local recipient reaches only the local one; clean mail is forwarded", async () => {
    const report = await deliverer.deliver(message(["friend@fwd.test", "ann@example.test"], true));
    expect(report.stored).toBe(1);
    expect(report.queueId).toBeUndefined();
    expect(await store.queue.list()).toEqual([]);
    const clean = await deliverer.deliver(message(["friend@fwd.test"], false));
    expect(clean.queueId).toBeDefined();
    const queued = (await store.queue.list()).flatMap((q) => q.recipients.map((r) => r.recipient)).sort();
    expect(queued).toEqual(["https://hooks.example/in", "me@elsewhere.test"]);
  });
});
