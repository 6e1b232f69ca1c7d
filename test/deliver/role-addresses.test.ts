/**
 * Issue 18, finding 8: `RCPT TO:<postmaster>` without a domain (RFC 5321 §4.5.1) is accepted and
 * delivered, and postmaster@ and abuse@ (RFC 2142 §4) reach someone at every served domain.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { Directory } from "../../src/deliver/directory.ts";
import type { Store } from "../../src/store/store.ts";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";
import { openTempStore } from "../helpers/store.ts";

describe("Directory: role addresses", () => {
  let store: Store;
  let cleanup: () => void;
  beforeEach(async () => {
    const temp = await openTempStore();
    store = temp.store;
    cleanup = temp.cleanup;
    await store.domains.add("first.test");
    await store.domains.add("example.test");
    await store.domains.add("other.test");
    await store.accounts.add({ address: "postmaster@example.test", password: "long enough password" });
    await store.accounts.add({ address: "bob@other.test", password: "long enough password" });
  });
  afterEach(() => cleanup());

  test("by default <postmaster>, postmaster@ and abuse@ go to postmaster@ the host name's domain", async () => {
    const directory = new Directory(store, { hostname: "mx.example.test" });
    for (const address of ["postmaster", "POSTMASTER", "postmaster@other.test", "abuse@first.test"]) {
      expect(await directory.resolve(address)).toMatchObject({ kind: "alias", targets: ["postmaster@example.test"] });
    }
    expect(await directory.resolve("postmaster@example.test")).toMatchObject({ kind: "account" });
    expect(await directory.resolve("abuse@example.test")).toMatchObject({
      kind: "alias",
      address: "abuse@example.test",
      targets: ["postmaster@example.test"],
    });
    expect(await directory.resolve("nobody@other.test")).toMatchObject({ kind: "unknown" });
    expect(await directory.resolve("abuse@remote.test")).toMatchObject({ kind: "remote" });
  });

  test("without a served host name domain, the first domain added is the primary one", async () => {
    const directory = new Directory(store, { hostname: "mx.elsewhere.test" });
    // postmaster@first.test does not exist, so the role addresses stay unknown rather than loop.
    expect(await directory.resolve("postmaster")).toMatchObject({ kind: "unknown" });
    expect(await directory.resolve("abuse@other.test")).toMatchObject({ kind: "unknown" });
    await store.aliases.add("postmaster@first.test", ["bob@other.test"]);
    const fresh = new Directory(store, { hostname: "mx.elsewhere.test" });
    expect(await fresh.resolve("postmaster")).toMatchObject({ kind: "alias", targets: ["postmaster@first.test"] });
  });

  test("configured targets; a domain's own account or alias of the name comes first", async () => {
    await store.accounts.add({ address: "abuse@other.test", password: "long enough password" });
    const directory = new Directory(store, {
      hostname: "mx.example.test",
      postmaster: "bob@other.test",
      abuse: "abuse-desk@remote.test",
    });
    expect(await directory.resolve("postmaster")).toMatchObject({ kind: "alias", targets: ["bob@other.test"] });
    expect(await directory.resolve("postmaster@first.test")).toMatchObject({ targets: ["bob@other.test"] });
    expect(await directory.resolve("postmaster@example.test")).toMatchObject({ kind: "account" });
    expect(await directory.resolve("abuse@first.test")).toMatchObject({ targets: ["abuse-desk@remote.test"] });
    expect(await directory.resolve("abuse@other.test")).toMatchObject({ kind: "account" });
  });

  test("targets that point at each other end, unknown, instead of looping", async () => {
    const directory = new Directory(store, {
      hostname: "mx.example.test",
      postmaster: "abuse@first.test",
      abuse: "postmaster@first.test",
    });
    expect(await directory.resolve("postmaster@other.test")).toMatchObject({ kind: "unknown" });
    expect(await directory.resolve("postmaster")).toMatchObject({ kind: "unknown" });
  });
});

describe(`RCPT TO:<postmaster> and abuse@ over SMTP on ${runtime()}`, () => {
  let mail: MailServer;
  beforeAll(async () => {
    mail = await startMailServer({
      waitFor: ["smtp"],
      users: { "jo@example.test": "jo-password", "desk@example.test": "desk-password" },
      setup: [["domain", "add", "second.test"]],
      config: { postmaster: "jo@example.test", abuse: "desk@example.test" },
    });
  }, 60_000);
  afterAll(async () => {
    await mail?.stop();
  });

  test("each is accepted and lands in the configured mailbox", async () => {
    const smtp = await LineClient.connect(mail.server.ports.smtp!);
    try {
      await smtp.reply();
      const script: Array<[string, string]> = [
        ["EHLO client.test", "250"],
        ["MAIL FROM:<someone@remote.test>", "250 2.1.0"],
        ["RCPT TO:<postmaster>", "250 2.1.5"],
        ["RCPT TO:<Postmaster@second.test>", "250 2.1.5"],
        ["RCPT TO:<abuse@second.test>", "250 2.1.5"],
        ["RCPT TO:<nobody@second.test>", "550 5.1.1"],
        ["DATA", "354"],
      ];
      for (const [command, expected] of script) {
        await smtp.line(command);
        expect((await smtp.reply()).at(-1)).toStartWith(expected);
      }
      await smtp.send("Subject: to the postmaster\r\n\r\nhello\r\n.\r\n");
      expect((await smtp.reply())[0]).toStartWith("250 2.0.0");
    } finally {
      smtp.close();
    }
    const jo = await readInbox(mail.dataDir, "jo@example.test");
    const desk = await readInbox(mail.dataDir, "desk@example.test");
    expect(jo.map((m) => m.summary.subject)).toEqual(["to the postmaster"]);
    expect(desk.map((m) => m.summary.subject)).toEqual(["to the postmaster"]);
  });
});
