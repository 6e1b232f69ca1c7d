/**
 * JMAP method arguments are checked against one valibot schema per method before the method runs
 * (issue 17): a wrong type, a missing required argument or a malformed filter is invalidArguments
 * (RFC 8620 §3.6.2) with a description naming the argument, and nothing is changed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let inbox: string;

beforeAll(async () => {
  mail = await startMailServer({ waitFor: ["http"], users: { "jo@example.test": "jo-password" } });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  inbox = (await jo.roles()).inbox!;
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

/** [method, arguments (accountId added), the argument the description must name]. */
const BAD: Array<[string, Record<string, unknown>, string]> = [
  ["Mailbox/get", { properties: "name" }, "properties"],
  ["Mailbox/set", { destroy: "MB1" }, "destroy"],
  ["Mailbox/set", { onDestroyRemoveEmails: "yes" }, "onDestroyRemoveEmails"],
  ["Mailbox/query", { filter: { isSubscribed: "yes" } }, "filter.isSubscribed"],
  ["Mailbox/changes", { sinceState: 0 }, "sinceState"],
  ["Mailbox/changes", {}, "sinceState"],
  ["Email/get", { ids: ["M1"], fetchTextBodyValues: "yes" }, "fetchTextBodyValues"],
  ["Email/get", { ids: ["M1"], maxBodyValueBytes: -1 }, "maxBodyValueBytes"],
  ["Email/query", { filter: { inMailbox: 5 } }, "filter.inMailbox"],
  ["Email/query", { filter: { before: "yesterday" } }, "filter.before"],
  ["Email/query", { filter: { operator: "XOR", conditions: [] } }, "filter.operator"],
  ["Email/query", { filter: { operator: "AND", conditions: [{ minSize: "big" }] } }, "filter.conditions.0.minSize"],
  ["Email/query", { filter: { header: [] } }, "filter.header"],
  ["Email/query", { filter: { header: ["a", "b", "c"] } }, "filter.header"],
  ["Email/query", { sort: "receivedAt" }, "sort"],
  ["Email/query", { sort: [{ property: "size", isAscending: "no" }] }, "sort.0.isAscending"],
  ["Email/query", { collapseThreads: 1 }, "collapseThreads"],
  ["Email/query", { calculateTotal: "true" }, "calculateTotal"],
  ["Email/queryChanges", {}, "sinceQueryState"],
  ["Email/changes", { sinceState: "0", maxChanges: 0 }, "maxChanges"],
  ["Email/set", { destroy: "M1" }, "destroy"],
  ["Email/set", { update: ["M1"] }, "update"],
  ["Email/set", { ifInState: 3 }, "ifInState"],
  ["Email/import", {}, "emails"],
  ["Email/parse", {}, "blobIds"],
  ["Email/copy", { create: {} }, "fromAccountId"],
  ["Thread/get", { ids: [1] }, "ids.0"],
  ["SearchSnippet/get", { emailIds: "M1" }, "emailIds"],
  ["Identity/set", { create: "x" }, "create"],
  ["EmailSubmission/query", { filter: { undoStatus: "sent" } }, "filter.undoStatus"],
  ["EmailSubmission/set", { onSuccessDestroyEmail: "#s" }, "onSuccessDestroyEmail"],
  ["EmailSubmission/set", { onSuccessUpdateEmail: { "#s": true } }, "onSuccessUpdateEmail.#s"],
  ["VacationResponse/get", { ids: "singleton" }, "ids"],
  ["Quota/query", { position: "1" }, "position"],
  ["Blob/get", {}, "ids"],
  ["Blob/get", { ids: [], offset: -1 }, "offset"],
  ["Blob/copy", { blobIds: [] }, "fromAccountId"],
];

describe(`JMAP argument schemas on ${runtime()}`, () => {
  test("every method answers a bad argument with invalidArguments naming it", async () => {
    const responses = await jo.request(
      BAD.map(([method, args], i) => [method, { accountId: jo.accountId, ...args }, String(i)]),
      [...["core", "mail", "submission", "vacationresponse", "quota", "blob"].map((c) => `urn:ietf:params:jmap:${c}`)],
    );
    const seen = responses.map(([name, args, id]) => {
      const [method, , argument] = BAD[Number(id)]!;
      const description = String(args.description ?? "");
      return [
        method,
        argument,
        name,
        args.type,
        description.startsWith(`${argument} `) ||
        description.startsWith(`${argument}:`),
      ];
    });
    expect(seen).toEqual(BAD.map(([method, , argument]) => [method, argument, "error", "invalidArguments", true]));
  });

  test("a missing accountId is invalidArguments naming it; a wrong one is accountNotFound", async () => {
    const [missing, wrong] = await jo.request([
      ["Email/query", {}, "a"],
      ["Email/query", { accountId: "A999999" }, "b"],
    ]);
    expect(missing![1]).toEqual({ type: "invalidArguments", description: "accountId is required" });
    expect(wrong![1].type).toBe("accountNotFound");
  });

  test("a refused call changes nothing", async () => {
    const { blobId } = await jo.upload("Subject: kept\r\n\r\nbody\r\n", "message/rfc822");
    const imported = (await jo.call("Email/import", {
      emails: { m: { blobId, mailboxIds: { [inbox]: true } } },
    })) as { created: Record<string, { id: string }> };
    const id = imported.created.m!.id;
    // Before the schemas, a string destroy was walked character by character.
    const refused = await jo.call("Email/set", { destroy: id, update: { [id]: { "keywords/$seen": true } } });
    expect(refused.type).toBe("invalidArguments");
    const got = (await jo.call("Email/get", { ids: [id], properties: ["keywords"] })) as {
      list: Array<{ id: string; keywords: object }>;
    };
    expect(got.list).toEqual([{ id, keywords: {} }]);
  });

  test("a result reference is checked once resolved", async () => {
    const [, get] = await jo.request([
      ["Email/query", { accountId: jo.accountId }, "q"],
      [
        "Email/get",
        { accountId: jo.accountId, "#ids": { resultOf: "q", name: "Email/query", path: "/position" } },
        "g",
      ],
    ]);
    // /position is a number, not a list of ids.
    expect(get![1]).toMatchObject({ type: "invalidArguments", description: expect.stringMatching(/^ids/) });
  });
});
