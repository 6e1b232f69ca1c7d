/**
 * Blob/upload and Blob/lookup (RFC 9404 §4.1, §4.3, issue 17 item 9): blobs built from text,
 * base64 and ranges of other blobs (by creation id too), imported as mail by creation id, and
 * looked up in the Emails, Mailboxes and Threads that hold them; bad sources are SetErrors, and
 * another account's blob is as unknown as one that never existed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Invocation, type JmapSession, jmapSession, USING } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;
let inbox: string;

const BLOB = "urn:ietf:params:jmap:blob";

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

type Args = Record<string, unknown>;

async function calls(session: JmapSession, list: Array<[string, Args]>) {
  const responses = await session.request(
    list.map(([name, args], i): Invocation => [name, { accountId: session.accountId, ...args }, String(i)]),
    [...USING, BLOB],
  );
  // deno-lint-ignore no-explicit-any -- response shapes, read as the test goes
  return responses.map((r) => r[1] as Record<string, any>);
}

describe(`JMAP Blob/upload and Blob/lookup on ${runtime()}`, () => {
  test("the session advertises the limits and the types a blob can be looked up in", async () => {
    const session = await (await fetch(`${jo.base}/jmap/session`, { headers: { authorization: jo.authorization } }))
      .json() as { accounts: Record<string, { accountCapabilities: Record<string, unknown> }> };
    expect(session.accounts[jo.accountId]!.accountCapabilities[BLOB]).toMatchObject({
      maxSizeBlobSet: 50_000_000,
      maxDataSources: 64,
      supportedTypeNames: ["Email", "Mailbox", "Thread"],
    });
  });

  test("text, base64 and a range of a blob made earlier in the call make one blob", async () => {
    const [upload] = await calls(jo, [
      ["Blob/upload", {
        create: {
          hello: { data: [{ "data:asText": "Hello, " }, { "data:asBase64": btoa("world") }], type: "text/plain" },
          again: { data: [{ blobId: "#hello", offset: 7, length: 5 }, { "data:asText": "!" }] },
        },
      }],
    ]);
    const [get] = await calls(jo, [["Blob/get", { ids: [upload!.created.hello.id, upload!.created.again.id] }]]);
    expect(upload!.notCreated).toBeNull();
    expect(upload!.created.hello).toMatchObject({ type: "text/plain", size: 12 });
    expect(upload!.created.again).toMatchObject({ type: "application/octet-stream", size: 6 });
    const texts = Object.fromEntries(get!.list.map((b: { id: string }) => [b.id, b]));
    expect(texts[upload!.created.hello.id]["data:asText"]).toBe("Hello, world");
    expect(texts[upload!.created.again.id]["data:asText"]).toBe("world!");
    // Downloads like any upload.
    expect(await (await jo.download(upload!.created.again.id)).text()).toBe("world!");
  });

  test("a message made with Blob/upload is imported by creation id and found by Blob/lookup", async () => {
    const message = "From: zed@remote.test\r\nTo: jo@example.test\r\nSubject: uploaded\r\n\r\nthe body\r\n";
    const [upload, imported] = await calls(jo, [
      ["Blob/upload", { create: { m: { data: [{ "data:asText": message }], type: "message/rfc822" } } }],
      ["Email/import", { emails: { e: { blobId: "#m", mailboxIds: { [inbox]: true } } } }],
    ]);
    const blobId = upload!.created.m.id as string;
    const email = imported!.created.e as { id: string; blobId: string; threadId: string };
    expect(email.blobId).toBe(blobId);
    const [parts] = await calls(jo, [["Email/get", { ids: [email.id], properties: ["textBody"] }]]);
    const partBlob = parts!.list[0].textBody[0].blobId as string;
    const { blobId: loose } = await jo.upload("referenced by nothing");

    const [lookup] = await calls(jo, [
      ["Blob/lookup", { typeNames: ["Email", "Mailbox", "Thread"], ids: [blobId, partBlob, loose, "Bnope"] }],
    ]);
    expect(lookup!.list).toEqual([
      { id: blobId, matchedIds: { Email: [email.id], Mailbox: [inbox], Thread: [email.threadId] } },
      { id: partBlob, matchedIds: { Email: [email.id], Mailbox: [inbox], Thread: [email.threadId] } },
      { id: loose, matchedIds: { Email: [], Mailbox: [], Thread: [] } },
    ]);
    expect(lookup!.notFound).toEqual(["Bnope"]);

    // Kim knows the ids, not the blobs.
    const [theirs, copied] = await calls(kim, [
      ["Blob/lookup", { typeNames: ["Email"], ids: [blobId] }],
      ["Blob/upload", { create: { c: { data: [{ blobId }] } } }],
    ]);
    expect(theirs!).toMatchObject({ list: [], notFound: [blobId] });
    expect(copied!.notCreated.c).toMatchObject({ type: "blobNotFound", notFound: [blobId] });
  });

  test("bad sources are SetErrors naming the source; an unknown type is unknownDataType", async () => {
    const { blobId } = await jo.upload("0123456789");
    const [upload, lookup] = await calls(jo, [
      ["Blob/upload", {
        create: {
          range: { data: [{ blobId, offset: 5, length: 6 }] },
          both: { data: [{ "data:asText": "a", "data:asBase64": "YQ==" }] },
          base64: { data: [{ "data:asText": "ok" }, { "data:asBase64": "not base64!" }] },
          empty: { data: [] },
          extra: { data: [{ "data:asText": "a" }], name: "x" },
          missing: { data: [{ blobId: `B${"0".repeat(64)}` }] },
          fine: { data: [{ blobId, offset: 5, length: 5 }] },
        },
      }],
      ["Blob/lookup", { typeNames: ["Mailbox", "Calendar"], ids: [blobId] }],
    ]);
    const errors = Object.fromEntries(
      Object.entries(upload!.notCreated as Record<string, { type: string; properties?: string[] }>).map((
        [k, e],
      ) => [k, [e.type, ...(e.properties ?? [])]]),
    );
    expect(errors).toEqual({
      range: ["invalidProperties", "data/0"],
      both: ["invalidProperties", "data/0"],
      base64: ["invalidProperties", "data/1"],
      empty: ["invalidProperties", "data"],
      extra: ["invalidProperties", "name"],
      missing: ["blobNotFound"],
    });
    expect(Object.keys(upload!.created)).toEqual(["fine"]);
    expect(lookup).toMatchObject({ type: "unknownDataType" });
    const [noCreate] = await calls(jo, [["Blob/upload", {}]]);
    expect(noCreate).toMatchObject({ type: "invalidArguments", description: "create is required" });
  });
});
