/**
 * JMAP protocol details (issue 17 items 10 and 11): UTCDate without a zero fraction, `using`
 * deciding which methods exist, argument types, Mailbox/get properties, SearchSnippet's null
 * notFound, "#creationId" in mailboxIds, another account's blob refused by Email/import, and a
 * minimum EventSource ping interval, and tooManyMailboxes.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;
let inbox: string;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
  inbox = (await jo.roles()).inbox!;
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const MESSAGE = "From: zed@remote.test\r\nTo: jo@example.test\r\nSubject: imported\r\n\r\nbody\r\n";

describe(`JMAP protocol details on ${runtime()}`, () => {
  test("UTCDate has no zero fraction (RFC 8620 §1.4)", async () => {
    const { blobId } = await jo.upload(MESSAGE, "message/rfc822");
    const imported = (await jo.call("Email/import", {
      emails: { m: { blobId, mailboxIds: { [inbox]: true }, receivedAt: "2026-01-02T03:04:05Z" } },
    })) as { created: Record<string, { id: string }> };
    const got = (await jo.call("Email/get", { ids: [imported.created.m!.id], properties: ["receivedAt"] })) as {
      list: Array<{ receivedAt: string }>;
    };
    expect(got.list[0]!.receivedAt).toBe("2026-01-02T03:04:05Z");
  });

  test("a method of a capability not in using is unknownMethod (RFC 8620 §3.3)", async () => {
    const [response] = await jo.request([["Mailbox/get", { accountId: jo.accountId }, "a"]], [
      "urn:ietf:params:jmap:core",
    ]);
    expect(response).toMatchObject(["error", { type: "unknownMethod" }, "a"]);
    const [echo] = await jo.request([["Core/echo", { x: 1 }, "b"]], ["urn:ietf:params:jmap:core"]);
    expect(echo).toEqual(["Core/echo", { x: 1 }, "b"]);
  });

  test("arguments of the wrong type are invalidArguments", async () => {
    const calls = await jo.request([
      ["Mailbox/get", {}, "noAccount"],
      ["Mailbox/get", { accountId: jo.accountId, ids: "x" }, "idsString"],
      ["Email/get", { accountId: jo.accountId, ids: [1, 2] }, "idsNumbers"],
      ["EmailSubmission/set", { accountId: jo.accountId, create: [] }, "createList"],
    ]);
    for (const [name, args, id] of calls) expect([id, name, args.type]).toEqual([id, "error", "invalidArguments"]);
  });

  test("Mailbox/get returns only the properties asked for, and the id", async () => {
    const got = (await jo.call("Mailbox/get", { ids: [inbox], properties: ["name", "role"] })) as {
      list: Array<Record<string, unknown>>;
    };
    expect(got.list).toEqual([{ id: inbox, name: "INBOX", role: "inbox" }]);
  });

  test("SearchSnippet/get: notFound is null when every id was found (RFC 8621 §5.1)", async () => {
    const ids = ((await jo.call("Email/query", {})) as { ids: string[] }).ids;
    const found = (await jo.call("SearchSnippet/get", { emailIds: ids, filter: { text: "body" } })) as {
      notFound: unknown;
    };
    expect(found.notFound).toBeNull();
    const missing = (await jo.call("SearchSnippet/get", { emailIds: ["M999999"], filter: { text: "body" } })) as {
      notFound: unknown;
    };
    expect(missing.notFound).toEqual(["M999999"]);
  });

  test('"#creationId" of a mailbox created earlier in the request stands in mailboxIds (RFC 8620 §5.3)', async () => {
    const responses = await jo.request([
      ["Mailbox/set", { accountId: jo.accountId, create: { box: { name: "Made now" } } }, "0"],
      ["Email/set", {
        accountId: jo.accountId,
        create: {
          e: {
            mailboxIds: { "#box": true },
            subject: "into a new mailbox",
            textBody: [{ partId: "t" }],
            bodyValues: { t: { value: "x" } },
          },
        },
      }, "1"],
    ]);
    const box = (responses[0]![1].created as Record<string, { id: string }>).box!.id;
    const email = (responses[1]![1].created as Record<string, { id: string }>).e!.id;
    const got = (await jo.call("Email/get", { ids: [email], properties: ["mailboxIds"] })) as {
      list: Array<{ mailboxIds: object }>;
    };
    expect(got.list[0]!.mailboxIds).toEqual({ [box]: true });
  });

  test("more mailboxes than maxMailboxesPerEmail is tooManyMailboxes (RFC 8621 §4.6)", async () => {
    const session = (await (await fetch(`${jo.base}/jmap/session`, { headers: { authorization: jo.authorization } }))
      .json()) as { accounts: Record<string, { accountCapabilities: Record<string, Record<string, unknown>> }> };
    const max = session.accounts[jo.accountId]!.accountCapabilities["urn:ietf:params:jmap:mail"]!.maxMailboxesPerEmail;
    expect(max).toBe(100);
    const made = (await jo.call("Mailbox/set", {
      create: Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`b${i}`, { name: `many-${i}` }])),
    })) as { created: Record<string, { id: string }> };
    const boxes = Object.values(made.created).map((b) => b.id);
    expect(boxes).toHaveLength(101);
    const all = Object.fromEntries(boxes.map((id) => [id, true]));
    const text = { textBody: [{ partId: "t" }], bodyValues: { t: { value: "x" } } };
    const created = (await jo.call("Email/set", {
      create: {
        over: { mailboxIds: all, subject: "too many", ...text },
        fits: { mailboxIds: { [inbox]: true }, ...text },
      },
    })) as { created: Record<string, { id: string }>; notCreated: Record<string, { type: string }> };
    expect(created.notCreated.over!.type).toBe("tooManyMailboxes");
    const id = created.created.fits!.id;
    const updated = (await jo.call("Email/set", { update: { [id]: { mailboxIds: all } } })) as {
      notUpdated: Record<string, { type: string }>;
    };
    expect(updated.notUpdated[id]!.type).toBe("tooManyMailboxes");
    const { blobId } = await jo.upload(MESSAGE, "message/rfc822");
    const imported = (await jo.call("Email/import", { emails: { m: { blobId, mailboxIds: all } } })) as {
      notCreated: Record<string, { type: string }>;
    };
    expect(imported.notCreated.m!.type).toBe("tooManyMailboxes");
    // Nothing was stored: the email is still in its one mailbox, and no other appeared.
    const got = (await jo.call("Email/get", { ids: [id], properties: ["mailboxIds"] })) as {
      list: Array<{ mailboxIds: object }>;
    };
    expect(got.list[0]!.mailboxIds).toEqual({ [inbox]: true });
    const inMany = (await jo.call("Email/query", { filter: { inMailbox: boxes[0] } })) as { ids: string[] };
    expect(inMany.ids).toEqual([]);
    await jo.call("Mailbox/set", { destroy: boxes });
  });

  test("Email/import of another account's blob is blobNotFound and stores nothing (issue 17 item 11)", async () => {
    const { blobId } = await jo.upload(MESSAGE.replace("imported", "jo's private"), "message/rfc822");
    const kimInbox = (await kim.roles()).inbox!;
    const imported = (await kim.call("Email/import", {
      emails: { m: { blobId, mailboxIds: { [kimInbox]: true } } },
    })) as { created: object; notCreated: Record<string, { type: string }> };
    expect(imported.created).toEqual({});
    expect(imported.notCreated.m!.type).toBe("blobNotFound");
    expect(((await kim.call("Email/query", {})) as { ids: string[] }).ids).toEqual([]);
  });

  test("EventSource: types picks the types told of, closeafter=state ends after the next change (RFC 8620 §7.3)", async () => {
    const res = await fetch(`${jo.base}/jmap/eventsource?types=Mailbox,Nothing&closeafter=state&ping=0`, {
      headers: { authorization: jo.authorization },
    });
    const text = res.text();
    // Nothing is sent on connecting; a change is.
    await Bun.sleep(300);
    await jo.call("Mailbox/set", { create: { n: { name: "for the event" } } });
    const body = await Promise.race([text, Bun.sleep(5000).then(() => "still open")]);
    const events = body.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
    expect(events).toHaveLength(1);
    expect(events[0].changed[jo.accountId]).toEqual({ Mailbox: expect.any(String) });
  });

  test("the EventSource ping interval has a minimum of one second (RFC 8620 §7.3)", async () => {
    const started = Date.now();
    const res = await fetch(`${jo.base}/jmap/eventsource?types=*&closeafter=no&ping=0.01`, {
      headers: { authorization: jo.authorization },
    });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!text.includes("event: ping") && Date.now() - started < 5000) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value);
    }
    await reader.cancel();
    expect(text).toContain('"interval":1');
    expect(text.match(/event: ping/g)).toHaveLength(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
