/**
 * Smaller JMAP objects and properties (issue 17 items 7, 9 and 10): Blob/get (RFC 9404) and
 * Blob/copy (RFC 8620 §6.3), Quota/get (RFC 9425) from the quota the store enforces, Mailbox
 * sortOrder stored, server-set Mailbox properties refused, Mailbox/changes updatedProperties.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { type JmapSession, jmapSession, USING } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const ALL = [...USING, "urn:ietf:params:jmap:quota", "urn:ietf:params:jmap:blob"];
const QUOTA = 100_000;

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http"],
    users: { "kim@example.test": "kim-password" },
    setup: [["user", "add", "jo@example.test", "--password", "jo-password", "--quota", String(QUOTA)]],
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const call = async (session: JmapSession, method: string, args: Record<string, unknown>) =>
  (await session.request([[method, { accountId: session.accountId, ...args }, "0"]], ALL))[0]![1];

describe(`JMAP blobs, quota and mailbox details on ${runtime()}`, () => {
  test("Blob/get: text, base64, digests, ranges; another account's blob is notFound", async () => {
    const text = await jo.upload("héllo, world", "text/plain");
    const binary = await jo.upload(new Uint8Array([0xff, 0x00, 0x80]));
    const got = (await call(jo, "Blob/get", {
      ids: [text.blobId, binary.blobId, `B${"0".repeat(64)}`],
      properties: ["data", "size", "digest:sha-256"],
    })) as { list: Array<Record<string, unknown>>; notFound: string[] };
    expect(got.list[0]).toEqual({
      id: text.blobId,
      "data:asText": "héllo, world",
      size: 13,
      "digest:sha-256": createHash("sha256").update("héllo, world").digest("base64"),
      isEncodingProblem: false,
      isTruncated: false,
    });
    // "data" is asBase64 for what is not UTF-8 (RFC 9404 §4.2).
    expect(got.list[1]).toMatchObject({ "data:asBase64": "/wCA", size: 3 });
    expect(got.notFound).toEqual([`B${"0".repeat(64)}`]);

    const range = (await call(jo, "Blob/get", {
      ids: [text.blobId],
      properties: ["data:asText"],
      offset: 8,
      length: 100,
    })) as { list: Array<Record<string, unknown>> };
    expect(range.list[0]).toMatchObject({ "data:asText": "world", isTruncated: true });

    const theirs = (await call(kim, "Blob/get", { ids: [text.blobId] })) as { list: unknown[]; notFound: string[] };
    expect(theirs).toMatchObject({ list: [], notFound: [text.blobId] });
    expect(await call(jo, "Blob/get", { ids: [text.blobId], properties: ["digest:md5"] })).toMatchObject({
      type: "invalidArguments",
    });
  });

  test("Blob/copy within the account keeps the id; from another account is fromAccountNotFound", async () => {
    const blob = await jo.upload("copy me");
    expect(await call(jo, "Blob/copy", { fromAccountId: jo.accountId, blobIds: [blob.blobId] })).toMatchObject({
      copied: { [blob.blobId]: blob.blobId },
      notCopied: null,
    });
    expect(await call(kim, "Blob/copy", { fromAccountId: jo.accountId, blobIds: [blob.blobId] })).toMatchObject({
      type: "fromAccountNotFound",
    });
    expect(await call(kim, "Blob/copy", { fromAccountId: kim.accountId, blobIds: [blob.blobId] })).toMatchObject({
      notCopied: { [blob.blobId]: { type: "blobNotFound" } },
    });
  });

  test("Quota/get reports the account's quota and what its mail uses", async () => {
    const inbox = (await jo.roles()).inbox!;
    const message = "From: a@remote.test\r\nSubject: q\r\n\r\nquota\r\n";
    const { blobId } = await jo.upload(message, "message/rfc822");
    await jo.call("Email/import", { emails: { m: { blobId, mailboxIds: { [inbox]: true } } } });
    const got = (await call(jo, "Quota/get", { ids: null })) as { list: Array<Record<string, unknown>> };
    expect(got.list).toEqual([expect.objectContaining({
      resourceType: "octets",
      scope: "account",
      hardLimit: QUOTA,
      used: message.length,
      types: ["Email"],
    })]);
    const none = (await call(kim, "Quota/get", { ids: null })) as { list: unknown[] };
    expect(none.list).toEqual([]);
  });

  test("Mailbox sortOrder is stored; server-set properties are refused; updatedProperties after mail moves", async () => {
    const set = (await jo.call("Mailbox/set", {
      create: {
        a: { name: "Projects", sortOrder: 3 },
        counted: { name: "Counted", totalEmails: 5 },
        rights: { name: "Rights", myRights: {} },
        negative: { name: "Negative", sortOrder: -1 },
      },
    })) as {
      created: Record<string, { id: string }>;
      notCreated: Record<string, { type: string; properties: string[] }>;
      newState: string;
    };
    const projects = set.created.a!.id;
    expect(set.notCreated.counted).toMatchObject({ type: "invalidProperties", properties: ["totalEmails"] });
    expect(set.notCreated.rights).toMatchObject({ type: "invalidProperties", properties: ["myRights"] });
    expect(set.notCreated.negative).toMatchObject({ type: "invalidProperties", properties: ["sortOrder"] });
    const update = (await jo.call("Mailbox/set", {
      update: { [projects]: { sortOrder: 1 } },
    })) as { updated: Record<string, null>; newState: string };
    expect(update.updated).toEqual({ [projects]: null });
    const got = (await jo.call("Mailbox/get", { ids: [projects], properties: ["sortOrder"] })) as {
      list: Array<{ sortOrder: number }>;
    };
    expect(got.list[0]!.sortOrder).toBe(1);
    const sorted = (await jo.call("Mailbox/query", { sort: [{ property: "sortOrder" }] })) as { ids: string[] };
    expect(sorted.ids.slice(0, 2)).toEqual([(await jo.roles()).inbox!, projects]);

    // Mail arriving changes only the counts: updatedProperties names them.
    const state = update.newState;
    const { blobId } = await jo.upload("From: b@remote.test\r\nSubject: c\r\n\r\nc\r\n", "message/rfc822");
    await jo.call("Email/import", { emails: { m: { blobId, mailboxIds: { [projects]: true } } } });
    const counts = (await jo.call("Mailbox/changes", { sinceState: state })) as Record<string, unknown>;
    expect(counts).toMatchObject({
      updated: [projects],
      updatedProperties: ["totalEmails", "unreadEmails", "totalThreads", "unreadThreads"],
    });
    // A rename is more than counts: updatedProperties is null.
    await jo.call("Mailbox/set", { update: { [projects]: { name: "Projects 2" } } });
    const renamed = (await jo.call("Mailbox/changes", { sinceState: state })) as Record<string, unknown>;
    expect(renamed).toMatchObject({ updated: [projects], updatedProperties: null });
  });
});
