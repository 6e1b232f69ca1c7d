/**
 * Cross-account access (issue 17, "tests that must exist"): every method that takes an id or a
 * blobId, called by Kim with Jo's, answers not found (or forbidden) and changes nothing; a call
 * naming Jo's accountId is accountNotFound. Nothing of Jo's data appears in any response.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type Invocation, type JmapSession, jmapSession, USING } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const ALL = [
  ...USING,
  "urn:ietf:params:jmap:vacationresponse",
  "urn:ietf:params:jmap:quota",
  "urn:ietf:params:jmap:blob",
];
const SECRET = "jo-secret-subject";

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;
/** Jo's ids. */
const his = {} as Record<
  "inbox" | "drafts" | "email" | "thread" | "blob" | "part" | "upload" | "identity" | "submission",
  string
>;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
  const roles = await jo.roles();
  his.inbox = roles.inbox!;
  his.drafts = roles.drafts!;
  const upload = await jo.upload("an attachment of Jo's");
  his.upload = upload.blobId;
  const identities = (await jo.call("Identity/get", {})) as { list: Array<{ id: string }> };
  his.identity = identities.list[0]!.id;
  const responses = await jo.request([
    ["Email/set", {
      accountId: jo.accountId,
      create: {
        d: {
          mailboxIds: { [his.drafts]: true },
          from: [{ email: "jo@example.test" }],
          to: [{ email: "jo@example.test" }],
          subject: SECRET,
          textBody: [{ partId: "t" }],
          bodyValues: { t: { value: "secret body" } },
          attachments: [{ blobId: upload.blobId, type: "text/plain", name: "a.txt" }],
        },
      },
    }, "0"],
    [
      "EmailSubmission/set",
      { accountId: jo.accountId, create: { s: { identityId: his.identity, emailId: "#d" } } },
      "1",
    ],
  ]);
  const created = (responses[0]![1] as { created: Record<string, { id: string; blobId: string; threadId: string }> })
    .created.d!;
  his.email = created.id;
  his.blob = created.blobId;
  his.thread = created.threadId;
  his.part = `${created.blobId}.2`;
  his.submission = (responses[1]![1] as { created: Record<string, { id: string }> }).created.s!.id;
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

/** Kim's calls, in her own account unless the arguments say otherwise. */
const asKim = async (calls: Array<[string, Record<string, unknown>]>): Promise<Invocation[]> =>
  kim.request(calls.map(([m, args], i) => [m, { accountId: kim.accountId, ...args }, String(i)]), ALL);

const leaks = (responses: unknown) => {
  const text = JSON.stringify(responses);
  return [SECRET, "secret body", "an attachment of Jo's"].filter((s) => text.includes(s));
};

describe(`JMAP cross-account access on ${runtime()}`, () => {
  test("reads of Jo's ids are notFound and show nothing", async () => {
    const responses = await asKim([
      ["Mailbox/get", { ids: [his.inbox, his.drafts] }],
      ["Email/get", { ids: [his.email], properties: ["subject", "bodyValues"], fetchAllBodyValues: true }],
      ["Thread/get", { ids: [his.thread] }],
      ["SearchSnippet/get", { emailIds: [his.email], filter: { text: "secret" } }],
      ["Identity/get", { ids: [his.identity] }],
      ["EmailSubmission/get", { ids: [his.submission] }],
      ["Blob/get", { ids: [his.blob, his.part, his.upload] }],
      ["Email/parse", { blobIds: [his.blob, his.part] }],
      ["Email/query", { filter: { inMailbox: his.inbox } }],
      ["EmailSubmission/query", { filter: { emailIds: [his.email] } }],
    ]);
    const args = responses.map((r) => r[1] as Record<string, unknown>);
    expect(args[0]).toMatchObject({ list: [], notFound: [his.inbox, his.drafts] });
    expect(args[1]).toMatchObject({ list: [], notFound: [his.email] });
    expect(args[2]).toMatchObject({ list: [], notFound: [his.thread] });
    expect(args[3]).toMatchObject({ list: [], notFound: [his.email] });
    expect(args[4]).toMatchObject({ list: [], notFound: [his.identity] });
    expect(args[5]).toMatchObject({ list: [], notFound: [his.submission] });
    expect(args[6]).toMatchObject({ list: [], notFound: [his.blob, his.part, his.upload] });
    expect(args[7]).toMatchObject({ parsed: null, notFound: [his.blob, his.part] });
    expect(args[8]).toMatchObject({ ids: [] });
    expect(args[9]).toMatchObject({ ids: [] });
    expect(leaks(responses)).toEqual([]);
    for (const blobId of [his.blob, his.part, his.upload]) expect((await kim.download(blobId)).status).toBe(404);
  });

  test("writes to Jo's ids are notFound (or refused) and change nothing", async () => {
    const before = (await jo.call("Email/get", { ids: [his.email], properties: ["mailboxIds", "keywords"] })) as {
      state: string;
      list: unknown[];
    };
    const responses = await asKim([
      ["Mailbox/set", {
        update: { [his.inbox]: { name: "mine" } },
        destroy: [his.drafts],
        create: { c: { name: "child", parentId: his.inbox } },
      }],
      ["Email/set", {
        update: { [his.email]: { "keywords/$seen": true } },
        destroy: [his.email],
        create: { c: { mailboxIds: { [his.inbox]: true }, subject: "into Jo's inbox" } },
      }],
      ["Email/import", { emails: { i: { blobId: his.blob, mailboxIds: { [his.inbox]: true } } } }],
      ["Identity/set", { update: { [his.identity]: { name: "Kim" } }, destroy: [his.identity] }],
      ["EmailSubmission/set", {
        create: { s: { identityId: his.identity, emailId: his.email } },
        update: { [his.submission]: { undoStatus: "canceled" } },
        destroy: [his.submission],
      }],
      ["Blob/copy", { fromAccountId: jo.accountId, blobIds: [his.blob] }],
      ["Email/copy", { fromAccountId: jo.accountId, create: { c: { id: his.email, mailboxIds: {} } } }],
    ]);
    const [mailbox, email, imported, identity, submission, blobCopy, emailCopy] = responses.map((r) =>
      r[1] as Record<string, Record<string, { type: string }>>
    );
    expect(mailbox!.notUpdated![his.inbox]!.type).toBe("notFound");
    expect(mailbox!.notDestroyed![his.drafts]!.type).toBe("notFound");
    expect(mailbox!.notCreated!.c!.type).toBe("invalidProperties");
    expect(email!.notUpdated![his.email]!.type).toBe("notFound");
    expect(email!.notDestroyed![his.email]!.type).toBe("notFound");
    expect(email!.notCreated!.c!.type).toBe("invalidProperties");
    expect(imported!.notCreated!.i!.type).toBe("blobNotFound");
    expect(identity!.notUpdated![his.identity]!.type).toBe("notFound");
    expect(identity!.notDestroyed![his.identity]!.type).toBe("notFound");
    expect(submission!.notCreated!.s!.type).toBe("invalidProperties");
    expect(submission!.notUpdated![his.submission]!.type).toBe("notFound");
    expect(submission!.notDestroyed![his.submission]!.type).toBe("notFound");
    expect(responses[5]![0]).toBe("error");
    expect(blobCopy!.type as unknown).toBe("fromAccountNotFound");
    expect(responses[6]![0]).toBe("error");
    expect(emailCopy!.type as unknown).toBe("fromAccountNotFound");
    expect(leaks(responses)).toEqual([]);

    // Jo's data is as it was: same state, same email, same mailboxes, identity and submission.
    const after = (await jo.call("Email/get", { ids: [his.email], properties: ["mailboxIds", "keywords"] })) as {
      state: string;
      list: unknown[];
    };
    expect(after).toEqual(before);
    expect(Object.values(await jo.roles())).toContain(his.drafts);
    const identities = (await jo.call("Identity/get", { ids: [his.identity] })) as { list: Array<{ name: string }> };
    expect(identities.list[0]!.name).not.toBe("Kim");
    const submissions = (await jo.call("EmailSubmission/get", { ids: [his.submission] })) as { list: unknown[] };
    expect(submissions.list.length).toBe(1);
  });

  test("naming Jo's accountId is accountNotFound for every method", async () => {
    const methods = [
      "Mailbox/get",
      "Mailbox/set",
      "Mailbox/query",
      "Mailbox/changes",
      "Email/get",
      "Email/set",
      "Email/query",
      "Email/changes",
      "Email/import",
      "Email/parse",
      "Thread/get",
      "SearchSnippet/get",
      "Identity/get",
      "Identity/set",
      "Identity/changes",
      "EmailSubmission/get",
      "EmailSubmission/set",
      "EmailSubmission/query",
      "EmailSubmission/changes",
      "VacationResponse/get",
      "VacationResponse/set",
      "Quota/get",
      "Blob/get",
    ];
    const responses = await asKim(
      // Otherwise valid arguments: a required one missing is invalidArguments whatever the account.
      methods.map((m) => [m, { accountId: jo.accountId, ids: [], blobIds: [], emails: {}, sinceState: "0" }]),
    );
    for (const [i, [name, args]] of responses.entries()) {
      expect([methods[i], name, (args as { type?: string }).type]).toEqual([methods[i], "error", "accountNotFound"]);
    }
    const upload = await fetch(`${kim.base}/jmap/upload/${jo.accountId}`, {
      method: "POST",
      headers: { authorization: kim.authorization },
      body: "x",
    });
    expect(upload.status).toBe(404);
  });
});
