/**
 * The JMAP send flow (issue 17 bug 5, RFC 8621 §7.5) and the whole client flow the issue asks
 * for: a draft with an attachment made from an upload, sent with EmailSubmission/set and
 * onSuccessUpdateEmail (moved to Sent, $draft removed) whose implicit Email/set is its own
 * response; the recipient gets the attachment byte-identical, downloads it, replies over SMTP,
 * and the reply joins the sender's thread. A call is checked whole before anything is sent.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { type Invocation, type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;
let joBoxes: Record<string, string>;

const attachment = new Uint8Array(3000).map((_, i) => (i * 31 + 7) % 256);

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
  joBoxes = await jo.roles();
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

async function kimFinds(subject: string) {
  const query = (await kim.call("Email/query", { filter: { subject } })) as { ids: string[] };
  if (!query.ids.length) return [];
  const got = (await kim.call("Email/get", {
    ids: query.ids,
    properties: ["subject", "attachments", "messageId", "blobId"],
  })) as {
    list: Array<{
      id: string;
      blobId: string;
      messageId: string[];
      attachments: Array<{ blobId: string; name: string; type: string }>;
    }>;
  };
  return got.list;
}

function draft(subject: string, extra: Record<string, unknown> = {}) {
  return {
    mailboxIds: { [joBoxes.drafts!]: true },
    keywords: { $draft: true, $seen: true },
    from: [{ name: "Jo", email: "jo@example.test" }],
    to: [{ name: "Kim", email: "kim@example.test" }],
    subject,
    textBody: [{ partId: "t" }],
    bodyValues: { t: { value: `${subject}: the text` } },
    ...extra,
  };
}

const identity = async () => ((await jo.call("Identity/get", {})) as { list: Array<{ id: string }> }).list[0]!.id;

describe(`JMAP send flow on ${runtime()}`, () => {
  test("draft with an attachment → send → Sent without $draft → Kim downloads it → her reply joins the thread", async () => {
    const upload = await jo.upload(attachment, "application/octet-stream");
    const identityId = await identity();
    const responses = await jo.request([
      ["Email/set", {
        accountId: jo.accountId,
        create: {
          draft: draft("the whole flow", {
            textBody: undefined,
            bodyStructure: {
              type: "multipart/mixed",
              subParts: [
                { partId: "t", type: "text/plain" },
                { blobId: upload.blobId, type: "application/zip", name: "archive.zip", disposition: "attachment" },
              ],
            },
          }),
        },
      }, "0"],
      ["EmailSubmission/set", {
        accountId: jo.accountId,
        create: { send: { identityId, emailId: "#draft" } },
        onSuccessUpdateEmail: {
          "#send": {
            [`mailboxIds/${joBoxes.drafts}`]: null,
            [`mailboxIds/${joBoxes.sent}`]: true,
            "keywords/$draft": null,
          },
        },
      }, "1"],
    ]);
    // RFC 8621 §7.5: the implicit Email/set answers right after, as its own response with the same call id.
    expect(responses.map(([name, , id]) => [name, id])).toEqual([
      ["Email/set", "0"],
      ["EmailSubmission/set", "1"],
      ["Email/set", "1"],
    ]);
    const draftId = (responses[0]![1].created as Record<string, { id: string }>).draft!.id;
    expect(Object.keys(responses[1]![1].created as object)).toEqual(["send"]);
    expect(responses[1]![1]).not.toHaveProperty("emailSetResponse");
    expect(responses[2]![1].updated).toEqual({ [draftId]: null });

    const got = (await jo.call("Email/get", {
      ids: [draftId],
      properties: ["mailboxIds", "keywords", "threadId", "messageId"],
    })) as {
      list: Array<{ mailboxIds: object; keywords: object; threadId: string; messageId: string[] }>;
    };
    const sent = got.list[0]!;
    expect(sent.mailboxIds).toEqual({ [joBoxes.sent!]: true });
    expect(sent.keywords).toEqual({ $seen: true });

    const [received] = await kimFinds("the whole flow");
    expect(received).toBeDefined();
    const zip = received!.attachments.find((a) => a.name === "archive.zip")!;
    expect(zip.type).toBe("application/zip");
    const downloaded = await kim.download(zip.blobId, zip.name, zip.type);
    expect(new Uint8Array(await downloaded.arrayBuffer())).toEqual(attachment);

    await nodemailer
      .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
      .sendMail({
        envelope: { from: "kim@example.test", to: ["jo@example.test"] },
        raw:
          `From: kim@example.test\r\nTo: jo@example.test\r\nSubject: Re: the whole flow\r\nMessage-ID: <reply.1@example.test>\r\nIn-Reply-To: <${
            sent.messageId[0]
          }>\r\nReferences: <${sent.messageId[0]}>\r\n\r\nthanks\r\n`,
      });
    const replies = (await jo.call("Email/query", { filter: { subject: "Re: the whole flow" } })) as { ids: string[] };
    const reply = (await jo.call("Email/get", { ids: replies.ids, properties: ["threadId"] })) as {
      list: Array<{ threadId: string }>;
    };
    expect(reply.list[0]!.threadId).toBe(sent.threadId);
    const thread = (await jo.call("Thread/get", { ids: [sent.threadId] })) as { list: Array<{ emailIds: string[] }> };
    expect(thread.list[0]!.emailIds).toEqual([draftId, replies.ids[0]!]);
  });

  test("Bcc recipients get the message without the Bcc field", async () => {
    const responses = await jo.request([
      ["Email/set", {
        accountId: jo.accountId,
        create: {
          d: draft("blind copy", { to: [{ email: "nobody@example.test" }], bcc: [{ email: "kim@example.test" }] }),
        },
      }, "0"],
      ["EmailSubmission/set", {
        accountId: jo.accountId,
        create: { s: { identityId: await identity(), emailId: "#d", envelope: null } },
        onSuccessDestroyEmail: ["#s"],
      }, "1"],
    ]);
    expect(responses.map(([name]) => name)).toEqual(["Email/set", "EmailSubmission/set", "Email/set"]);
    const draftId = (responses[0]![1].created as Record<string, { id: string }>).d!.id;
    // onSuccessDestroyEmail: the draft is gone once sent.
    expect(responses[2]![1].destroyed).toEqual([draftId]);
    const [received] = await kimFinds("blind copy");
    const raw = await (await kim.download(received!.blobId)).text();
    expect(raw).toContain("To: <nobody@example.test>");
    expect(raw).not.toMatch(/^Bcc:/im);
  });

  test("the whole call is checked before anything is sent", async () => {
    const made = (await jo.call("Email/set", { create: { d: draft("must not leave") } })) as {
      created: Record<string, { id: string }>;
    };
    const emailId = made.created.d!.id;
    const identityId = await identity();
    const call = (args: Record<string, unknown>) =>
      jo.request([[
        "EmailSubmission/set",
        { accountId: jo.accountId, create: { s: { identityId, emailId } }, ...args },
        "x",
      ]]);
    const refused: Invocation[][] = [
      await call({ onSuccessUpdateEmail: { "#nope": { "keywords/$draft": null } } }),
      await call({ onSuccessUpdateEmail: { "#s": "not a patch" } }),
      await call({ update: "nonsense" }),
      await call({ onSuccessDestroyEmail: "#s" }),
    ];
    for (const responses of refused) {
      expect(responses).toHaveLength(1);
      expect(responses[0]![0]).toBe("error");
      expect(responses[0]![1].type).toBe("invalidArguments");
    }
    expect(await kimFinds("must not leave")).toEqual([]);

    // An update or destroy that fails is reported on its own; the valid create still goes.
    const [response] = await call({ update: { S999: { undoStatus: "canceled" } }, destroy: ["S998"] });
    expect(response![0]).toBe("EmailSubmission/set");
    expect(Object.keys(response![1].created as object)).toEqual(["s"]);
    expect((response![1].notUpdated as Record<string, { type: string }>).S999!.type).toBe("notFound");
    expect((response![1].notDestroyed as Record<string, { type: string }>).S998!.type).toBe("notFound");
    expect(await kimFinds("must not leave")).toHaveLength(1);
    // A sent submission cannot be canceled.
    const sentId = (response![1].created as Record<string, { id: string }>).s!.id;
    const cancel = (await jo.call("EmailSubmission/set", { update: { [sentId]: { undoStatus: "canceled" } } })) as {
      notUpdated: Record<string, { type: string }>;
    };
    expect(cancel.notUpdated[sentId]!.type).toBe("cannotUnsend");
  });

  test("bad creates get the SetError RFC 8621 §7.5 names, and nothing is sent", async () => {
    const made = (await jo.call("Email/set", {
      create: {
        none: draft("no recipients", { to: [] }),
        fine: draft("never sent"),
      },
    })) as { created: Record<string, { id: string }> };
    const identityId = await identity();
    const set = (await jo.call("EmailSubmission/set", {
      create: {
        noRcpt: { identityId, emailId: made.created.none!.id },
        wrongFrom: {
          identityId,
          emailId: made.created.fine!.id,
          envelope: { mailFrom: { email: "kim@example.test" }, rcptTo: [{ email: "kim@example.test" }] },
        },
        badRcpt: {
          identityId,
          emailId: made.created.fine!.id,
          envelope: { mailFrom: { email: "jo@example.test" }, rcptTo: [{ email: "not an address" }] },
        },
        noEmail: { identityId, emailId: "M999999" },
        noIdentity: { identityId: "I999", emailId: made.created.fine!.id },
      },
    })) as { created: object; notCreated: Record<string, { type: string; properties?: string[] }> };
    expect(set.created).toEqual({});
    expect(set.notCreated.noRcpt!.type).toBe("noRecipients");
    expect(set.notCreated.wrongFrom!.type).toBe("forbiddenMailFrom");
    expect(set.notCreated.badRcpt).toMatchObject({ type: "invalidRecipients", invalidRecipients: ["not an address"] });
    expect(set.notCreated.noEmail).toMatchObject({ type: "invalidProperties", properties: ["emailId"] });
    expect(set.notCreated.noIdentity).toMatchObject({ type: "invalidProperties", properties: ["identityId"] });
    expect(await kimFinds("never sent")).toEqual([]);
  });
});
