/**
 * Threading across protocols (issue 14): messages created (Email/set create) or imported
 * (upload + Email/import) over JMAP join the thread of the message they reply to, and SMTP replies
 * to them join theirs; an email keeps its id when it moves. `postern serve` runs on the runtime
 * named by POSTERN_TEST_RUNTIME.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const USER = "tess@example.test";
const PASSWORD = "tess-password";
const ADMIN = "threads-admin-token-0123456789";
/** A bearer token made over REST in beforeAll (Basic would verify the password hash on every call). */
let AUTH: string;
const USING = ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"];

let mail: MailServer;
let base: string;
let accountId: string;
let mailboxes: Record<string, string>;

type Response = [string, Record<string, unknown>, string];

/** One JMAP call; fails with the call and the server's answer when the method errs. */
async function call(method: string, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/jmap/api`, {
    method: "POST",
    headers: { authorization: AUTH, "content-type": "application/json" },
    body: JSON.stringify({ using: USING, methodCalls: [[method, { accountId, ...args }, "c"]] }),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${JSON.stringify(args)} → HTTP ${res.status}: ${text}`);
  const [[name, result]] = (JSON.parse(text) as { methodResponses: Response[] }).methodResponses as [Response];
  if (name !== method) throw new Error(`${method} ${JSON.stringify(args)} → ${name} ${JSON.stringify(result)}`);
  return result;
}

interface Email {
  id: string;
  threadId: string;
  messageId: string[] | null;
  inReplyTo: string[] | null;
  mailboxIds: Record<string, true>;
  subject: string;
}

async function getEmail(id: string): Promise<Email> {
  const got = await call("Email/get", {
    ids: [id],
    properties: ["threadId", "messageId", "inReplyTo", "mailboxIds", "subject"],
  });
  expect(got.notFound).toEqual([]);
  return (got.list as Email[])[0]!;
}

/** The one email with this subject. */
async function bySubject(subject: string): Promise<Email> {
  const query = await call("Email/query", { filter: { subject } });
  const ids = (query.ids as string[]).filter(Boolean);
  const emails = await Promise.all(ids.map(getEmail));
  const exact = emails.filter((e) => e.subject === subject);
  expect(exact.map((e) => e.subject)).toEqual([subject]);
  return exact[0]!;
}

function smtp(raw: string) {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({ envelope: { from: "zed@remote.test", to: [USER] }, raw });
}

/** Uploads `raw` and imports it into INBOX; returns the new email's id. */
async function importEmail(raw: string, mailbox = mailboxes.inbox!): Promise<string> {
  const upload = await fetch(`${base}/jmap/upload/${accountId}`, {
    method: "POST",
    headers: { authorization: AUTH, "content-type": "message/rfc822" },
    body: raw,
  });
  expect(upload.status).toBe(201);
  const { blobId } = (await upload.json()) as { blobId: string };
  const imported = await call("Email/import", {
    emails: { i: { blobId, mailboxIds: { [mailbox]: true }, keywords: {}, receivedAt: new Date().toISOString() } },
  });
  const created = (imported.created as Record<string, { id: string; threadId?: string }> | undefined)?.i;
  if (!created) throw new Error(`Email/import → ${JSON.stringify(imported)}`);
  return created.id;
}

/** Email/set create of a plain-text draft; returns the new email's id. */
async function createEmail(spec: Record<string, unknown>): Promise<string> {
  const set = await call("Email/set", {
    create: {
      n: {
        mailboxIds: { [mailboxes.drafts!]: true },
        keywords: { $draft: true, $seen: true },
        from: [{ name: "Tess", email: USER }],
        to: [{ name: "Zed", email: "zed@remote.test" }],
        textBody: [{ partId: "t", type: "text/plain" }],
        bodyValues: { t: { value: "written over jmap" } },
        ...spec,
      },
    },
  });
  const created = (set.created as Record<string, { id: string }> | undefined)?.n;
  if (!created) throw new Error(`Email/set create → ${JSON.stringify(set)}`);
  return created.id;
}

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "http"],
    users: { [USER]: PASSWORD },
    config: { api: { adminToken: ADMIN } },
  });
  base = `http://127.0.0.1:${mail.server.ports.http}`;
  const made = await fetch(`${base}/api/v1/accounts/${USER}/tokens`, {
    method: "POST",
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: JSON.stringify({ name: "threads" }),
  });
  AUTH = `Bearer ${((await made.json()) as { token: string }).token}`;
  const session = (await (await fetch(`${base}/jmap/session`, { headers: { authorization: AUTH } })).json()) as {
    primaryAccounts: Record<string, string>;
  };
  accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"]!;
  const boxes = (await call("Mailbox/get", { ids: null })).list as Array<{ id: string; role: string | null }>;
  mailboxes = Object.fromEntries(boxes.filter((b) => b.role).map((b) => [b.role!, b.id]));
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

describe(`threads across protocols on ${runtime()}`, () => {
  test("an Email/import reply joins the thread of an SMTP-delivered root", async () => {
    await smtp(
      "From: Zed <zed@remote.test>\r\nTo: tess@example.test\r\nMessage-ID: <root-1@remote.test>\r\nSubject: smtp root\r\n\r\nroot\r\n",
    );
    const root = await bySubject("smtp root");
    expect(root.messageId).toEqual(["root-1@remote.test"]);
    const id = await importEmail(
      "From: tess@example.test\r\nTo: zed@remote.test\r\nMessage-ID: <import-reply-1@example.test>\r\nIn-Reply-To: <root-1@remote.test>\r\n" +
        "References: <root-1@remote.test>\r\nSubject: Re: smtp root\r\n\r\nimported reply\r\n",
    );
    const reply = await getEmail(id);
    expect(reply.inReplyTo).toEqual(["root-1@remote.test"]);
    expect(reply.threadId).toBe(root.threadId);
    const thread = await call("Thread/get", { ids: [root.threadId] });
    expect((thread.list as Array<{ emailIds: string[] }>)[0]!.emailIds.sort()).toEqual([root.id, id].sort());
  });

  test("an Email/set create reply (inReplyTo) joins the thread of an SMTP-delivered root", async () => {
    await smtp(
      "From: Zed <zed@remote.test>\r\nTo: tess@example.test\r\nMessage-ID: <root-2@remote.test>\r\nSubject: another smtp root\r\n\r\nroot\r\n",
    );
    const root = await bySubject("another smtp root");
    const id = await createEmail({
      subject: "Re: another smtp root",
      inReplyTo: ["root-2@remote.test"],
      references: ["root-2@remote.test"],
    });
    const reply = await getEmail(id);
    expect(reply.inReplyTo).toEqual(["root-2@remote.test"]);
    expect(reply.threadId).toBe(root.threadId);
  });

  test("an SMTP reply to an Email/set-created draft joins the draft's thread", async () => {
    const draftId = await createEmail({ subject: "draft over jmap" });
    const draft = await getEmail(draftId);
    expect(draft.messageId).toHaveLength(1);
    const messageId = draft.messageId![0]!;
    await smtp(
      `From: Zed <zed@remote.test>\r\nTo: tess@example.test\r\nMessage-ID: <smtp-reply-3@remote.test>\r\nIn-Reply-To: <${messageId}>\r\n` +
        `References: <${messageId}>\r\nSubject: Re: draft over jmap\r\n\r\nsmtp reply\r\n`,
    );
    const reply = await bySubject("Re: draft over jmap");
    expect(reply.inReplyTo).toEqual([messageId]);
    expect(reply.threadId).toBe(draft.threadId);
    // The created draft was threaded at all: its thread lists it with the reply.
    const thread = await call("Thread/get", { ids: [draft.threadId] });
    expect((thread.list as Array<{ emailIds: string[] }>)[0]!.emailIds.sort()).toEqual([draftId, reply.id].sort());
  });

  test("an SMTP reply to an Email/import-ed message joins its thread", async () => {
    const id = await importEmail(
      "From: tess@example.test\r\nTo: zed@remote.test\r\nMessage-ID: <imported-4@example.test>\r\nSubject: imported over jmap\r\n\r\nimported\r\n",
    );
    const imported = await getEmail(id);
    expect(imported.messageId).toEqual(["imported-4@example.test"]);
    await smtp(
      "From: Zed <zed@remote.test>\r\nTo: tess@example.test\r\nMessage-ID: <smtp-reply-4@remote.test>\r\nIn-Reply-To: <imported-4@example.test>\r\n" +
        "References: <imported-4@example.test>\r\nSubject: Re: imported over jmap\r\n\r\nsmtp reply\r\n",
    );
    const reply = await bySubject("Re: imported over jmap");
    expect(reply.threadId).toBe(imported.threadId);
  });

  test("a moved email (Email/set mailboxIds) keeps its id and thread", async () => {
    await smtp(
      "From: Zed <zed@remote.test>\r\nTo: tess@example.test\r\nMessage-ID: <moving-5@remote.test>\r\nSubject: to be moved\r\n\r\nmove me\r\n",
    );
    const before = await bySubject("to be moved");
    expect(before.mailboxIds).toEqual({ [mailboxes.inbox!]: true });
    const set = await call("Email/set", { update: { [before.id]: { mailboxIds: { [mailboxes.archive!]: true } } } });
    expect(Object.keys((set.updated as object | undefined) ?? {})).toEqual([before.id]);
    expect(Object.keys((set.notUpdated as object | null | undefined) ?? {})).toEqual([]);
    const after = await getEmail(before.id);
    expect(after.mailboxIds).toEqual({ [mailboxes.archive!]: true });
    expect(after.threadId).toBe(before.threadId);
    expect((await call("Email/query", { filter: { inMailbox: mailboxes.archive } })).ids).toContain(before.id);
    expect((await call("Email/query", { filter: { inMailbox: mailboxes.inbox } })).ids).not.toContain(before.id);
    // In two mailboxes at once, then back: still the same email.
    await call("Email/set", { update: { [before.id]: { [`mailboxIds/${mailboxes.inbox}`]: true } } });
    expect((await getEmail(before.id)).mailboxIds).toEqual({ [mailboxes.inbox!]: true, [mailboxes.archive!]: true });
    await call("Email/set", { update: { [before.id]: { mailboxIds: { [mailboxes.inbox!]: true } } } });
    expect(await getEmail(before.id)).toMatchObject({
      id: before.id,
      threadId: before.threadId,
      mailboxIds: { [mailboxes.inbox!]: true },
    });
  });
});
