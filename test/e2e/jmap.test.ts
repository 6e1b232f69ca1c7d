/**
 * JMAP end to end with jmap-jam as the client, against `postern serve` on the runtime named by
 * POSTERN_TEST_RUNTIME: mail arrives over SMTP, is read and changed over JMAP, and IMAP sees it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import JamClient from "jmap-jam";
import nodemailer from "nodemailer";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const ADMIN = "jmap-admin-token-0123456789";
let mail: MailServer;
let base: string;
let jam: JamClient;
let accountId: string;

const admin = (method: string, path: string, body?: unknown) =>
  fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });

function smtp(subject: string, body = "hello jmap\r\n") {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({
      envelope: { from: "zed@remote.test", to: ["jo@example.test"] },
      raw: `From: Zed <zed@remote.test>\r\nTo: jo@example.test\r\nSubject: ${subject}\r\n\r\n${body}`,
    });
}

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "http", "imaps"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
    config: { api: { adminToken: ADMIN } },
  });
  base = `http://127.0.0.1:${mail.server.ports.http}`;
  const token = ((await (await admin("POST", "/api/v1/accounts/jo@example.test/tokens", { name: "jam" })).json()) as {
    token: string;
  }).token;
  jam = new JamClient({ sessionUrl: `${base}/jmap/session`, bearerToken: token });
  accountId = await jam.getPrimaryAccount();
  await smtp("first over jmap");
  await smtp("second over jmap", "the body of the second\r\n");
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

describe(`JMAP on ${runtime()}`, () => {
  test("the session names the account and its capabilities; wrong credentials are 401", async () => {
    const session = await jam.session;
    expect(session.username).toBe("jo@example.test");
    expect(Object.keys(session.capabilities)).toEqual([
      "urn:ietf:params:jmap:core",
      "urn:ietf:params:jmap:mail",
      "urn:ietf:params:jmap:submission",
      "urn:ietf:params:jmap:vacationresponse",
      "urn:ietf:params:jmap:quota",
      "urn:ietf:params:jmap:blob",
      "urn:postern:aliases",
      "urn:ietf:params:jmap:sieve",
    ]);
    expect((await fetch(`${base}/jmap/session`, { headers: { authorization: "Bearer nope" } })).status).toBe(401);
    const basic = await fetch(`${base}/jmap/session`, {
      headers: { authorization: `Basic ${btoa("jo@example.test:jo-password")}` },
    });
    expect(basic.status).toBe(200);
  });

  test("Mailbox/get, then Email/query + Email/get with a result reference", async () => {
    const [mailboxes] = await jam.api.Mailbox.get({ accountId });
    const inbox = mailboxes.list.find((m) => m.role === "inbox")!;
    expect(inbox).toMatchObject({ name: "INBOX", totalEmails: 2, unreadEmails: 2 });
    expect(mailboxes.list.map((m) => m.role).sort()).toEqual(["archive", "drafts", "inbox", "junk", "sent", "trash"]);
    const [{ emails }] = await jam.requestMany((t) => {
      const ids = t.Email.query({
        accountId,
        filter: { inMailbox: inbox.id },
        sort: [{ property: "receivedAt", isAscending: false }],
        limit: 10,
      });
      const emails = t.Email.get({
        accountId,
        ids: ids.$ref("/ids"),
        properties: ["subject", "from", "keywords", "textBody", "bodyValues"],
        fetchTextBodyValues: true,
      });
      return { ids, emails };
    });
    expect(emails.list.map((e) => e.subject)).toEqual(["second over jmap", "first over jmap"]);
    const second = emails.list[0]!;
    expect(second.from).toEqual([{ name: "Zed", email: "zed@remote.test" }]);
    expect(second.keywords).toEqual({});
    const partId = second.textBody![0]!.partId!;
    expect(second.bodyValues![partId]!.value).toBe("the body of the second\r\n");
  });

  test("Email/set keywords reaches an IMAP session as a flag change", async () => {
    const [query] = await jam.api.Email.query({ accountId, filter: { subject: "first over jmap" } });
    const id = query.ids[0]!;
    const imap = new ImapFlow({
      host: "127.0.0.1",
      port: mail.server.ports.imaps!,
      secure: true,
      logger: false,
      auth: { user: "jo@example.test", pass: "jo-password" },
      tls: { rejectUnauthorized: false },
    });
    imap.on("error", () => {});
    await imap.connect();
    const lock = await imap.getMailboxLock("INBOX");
    try {
      const flagged = new Promise<string[]>((resolve) =>
        imap.on("flags", (e: { flags: Set<string> }) => resolve([...e.flags]))
      );
      const [set] = await jam.api.Email.set({
        accountId,
        update: { [id]: { "keywords/$seen": true, "keywords/$flagged": true } },
      });
      expect(Object.keys(set.updated ?? {})).toEqual([id]);
      await imap.noop();
      expect((await Promise.race([flagged, Bun.sleep(3000).then(() => ["timeout"])])).sort()).toEqual([
        "\\Flagged",
        "\\Seen",
      ]);
    } finally {
      lock.release();
      await imap.logout();
    }
    const [got] = await jam.api.Email.get({ accountId, ids: [id], properties: ["keywords"] });
    expect(got.list[0]!.keywords).toEqual({ $seen: true, $flagged: true });
  });

  test("Email/changes after an SMTP delivery, and the EventSource announces it", async () => {
    const [before] = await jam.api.Email.get({ accountId, ids: [] });
    const events: string[] = [];
    const source = await fetch(`${base}/jmap/eventsource?types=*&closeafter=no&ping=0`, {
      headers: { authorization: `Basic ${btoa("jo@example.test:jo-password")}` },
    });
    const reader = source.body!.getReader();
    const reading = (async () => {
      const decoder = new TextDecoder();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        events.push(decoder.decode(value));
      }
    })();
    await Bun.sleep(200);
    await smtp("third over jmap");
    const deadline = Date.now() + 5000;
    while (
      !events.join("").includes(`"Email":"${Number(before.state) + 1}`) && !(events.length >= 2) &&
      Date.now() < deadline
    ) await Bun.sleep(50);
    await reader.cancel();
    await reading.catch(() => {});
    expect(events.join("")).toContain('"@type":"StateChange"');
    // One state string for every type: each is named, Identity and EmailSubmission too.
    expect(events.join("")).toContain('"EmailSubmission":"');
    expect(events.length).toBeGreaterThanOrEqual(2);
    const [changes] = await jam.api.Email.changes({ accountId, sinceState: before.state });
    expect(changes.created).toHaveLength(1);
    const [created] = await jam.api.Email.get({ accountId, ids: changes.created, properties: ["subject"] });
    expect(created.list[0]!.subject).toBe("third over jmap");
  });

  test("upload + Email/import, Mailbox/set, SearchSnippet/get", async () => {
    const raw = "From: me@example.test\r\nTo: jo@example.test\r\nSubject: imported draft\r\n\r\nwritten elsewhere\r\n";
    const upload = await fetch(`${base}/jmap/upload/${accountId}`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa("jo@example.test:jo-password")}`, "content-type": "message/rfc822" },
      body: raw,
    });
    expect(upload.status).toBe(201);
    const { blobId } = (await upload.json()) as { blobId: string };
    const [mailboxes] = await jam.api.Mailbox.get({ accountId });
    const drafts = mailboxes.list.find((m) => m.role === "drafts")!;
    const [imported] = await jam.api.Email.import({
      accountId,
      emails: {
        one: {
          blobId,
          mailboxIds: { [drafts.id]: true },
          keywords: { $draft: true, $seen: true },
          receivedAt: "2026-01-02T03:04:05Z",
        },
      },
    });
    const id = imported.created!.one!.id;
    const [got] = await jam.api.Email.get({
      accountId,
      ids: [id],
      properties: ["subject", "keywords", "mailboxIds", "receivedAt"],
    });
    expect(got.list[0]).toMatchObject({
      subject: "imported draft",
      keywords: { $draft: true, $seen: true },
      mailboxIds: { [drafts.id]: true },
      receivedAt: "2026-01-02T03:04:05Z",
    });

    const [byName] = await jam.api.Mailbox.query({ accountId, sort: [{ property: "name" }] });
    const [made] = await jam.api.Mailbox.set({ accountId, create: { p: { name: "Projects" } } });
    const projects = made.created!.p!.id;
    const [boxChanges] = await jam.api.Mailbox.queryChanges({
      accountId,
      sort: [{ property: "name" }],
      sinceQueryState: byName.queryState,
    });
    // "Projects" sorts between "Junk" and "Sent".
    expect(boxChanges.added).toEqual([{ id: projects, index: byName.ids.length - 2 }]);
    const [renamed] = await jam.api.Mailbox.set({ accountId, update: { [projects]: { name: "Projects 2026" } } });
    expect(Object.keys(renamed.updated ?? {})).toEqual([projects]);
    const [inboxRename] = await jam.api.Mailbox.set({
      accountId,
      update: { [mailboxes.list.find((m) => m.role === "inbox")!.id]: { name: "Elsewhere" } },
    });
    expect(Object.keys(inboxRename.notUpdated ?? {})).toHaveLength(1);
    const [gone] = await jam.api.Mailbox.set({ accountId, destroy: [projects] });
    expect(gone.destroyed).toEqual([projects]);

    const [draft] = await jam.api.Email.set({
      accountId,
      create: {
        n: {
          mailboxIds: { [drafts.id]: true },
          keywords: { $draft: true },
          from: [{ name: "Jo", email: "jo@example.test" }],
          to: [{ name: "Kim", email: "kim@example.test" }],
          subject: "Grüße from a draft",
          textBody: [{ partId: "t", type: "text/plain" }],
          bodyValues: { t: { value: "Dear Kim,\nhello." } },
        },
      },
    } as never);
    const draftId = (draft as { created: Record<string, { id: string }> }).created.n!.id;
    const [draftGot] = await jam.api.Email.get({
      accountId,
      ids: [draftId],
      properties: ["subject", "to", "keywords", "textBody", "bodyValues"],
      fetchTextBodyValues: true,
    });
    const d = draftGot.list[0]!;
    expect(d).toMatchObject({
      subject: "Grüße from a draft",
      to: [{ name: "Kim", email: "kim@example.test" }],
      keywords: { $draft: true },
    });
    expect(d.bodyValues![d.textBody![0]!.partId!]!.value).toBe("Dear Kim,\r\nhello.\r\n");

    const [snippets] = await jam.api.SearchSnippet.get({ accountId, emailIds: [id], filter: { text: "draft" } });
    expect(snippets.list[0]!.subject).toBe("imported <mark>draft</mark>");
  });

  test("EmailSubmission/set sends a draft and moves it to Sent; Identity/get", async () => {
    const [identities] = await jam.api.Identity.get({ accountId });
    expect(identities.list).toMatchObject([{ email: "jo@example.test" }]);
    const raw = "From: jo@example.test\r\nTo: kim@example.test\r\nSubject: sent over jmap\r\n\r\nhi kim\r\n";
    const upload = await fetch(`${base}/jmap/upload/${accountId}`, {
      method: "POST",
      headers: { authorization: `Basic ${btoa("jo@example.test:jo-password")}` },
      body: raw,
    });
    const { blobId } = (await upload.json()) as { blobId: string };
    const [mailboxes] = await jam.api.Mailbox.get({ accountId });
    const drafts = mailboxes.list.find((m) => m.role === "drafts")!.id;
    const sentBox = mailboxes.list.find((m) => m.role === "sent")!.id;
    const [imported] = await jam.api.Email.import({
      accountId,
      emails: {
        d: { blobId, mailboxIds: { [drafts]: true }, keywords: { $draft: true }, receivedAt: new Date().toISOString() },
      },
    });
    const emailId = imported.created!.d!.id;
    const [submitted] = await jam.request([
      "EmailSubmission/set",
      {
        accountId,
        create: { s: { identityId: identities.list[0]!.id, emailId, undoStatus: "final" } },
        onSuccessUpdateEmail: { "#s": { mailboxIds: { [sentBox]: true }, "keywords/$draft": null } },
      } as never,
    ]);
    expect(Object.keys((submitted as { created?: object }).created ?? {})).toEqual(["s"]);
    // Kim received it over the normal delivery path.
    const kim = new JamClient({
      sessionUrl: `${base}/jmap/session`,
      bearerToken: ((await (await admin("POST", "/api/v1/accounts/kim@example.test/tokens", { name: "k" })).json()) as {
        token: string;
      }).token,
    });
    const kimAccount = await kim.getPrimaryAccount();
    const [found] = await kim.api.Email.query({ accountId: kimAccount, filter: { subject: "sent over jmap" } });
    expect(found.ids).toHaveLength(1);
    const [inSent] = await jam.api.Email.query({ accountId, filter: { inMailbox: sentBox } });
    const [sentCopy] = await jam.api.Email.get({ accountId, ids: inSent.ids, properties: ["subject", "keywords"] });
    expect(sentCopy.list.find((e) => e.subject === "sent over jmap")?.keywords).toEqual({});
  });

  test("Email/queryChanges splices into the old results; Thread/changes and maxChanges follow the log", async () => {
    const call = async (method: string, args: Record<string, unknown>) => {
      const [response] = await jam.request([method, { accountId, ...args }] as never);
      return response as Record<string, unknown> & {
        ids: string[];
        added: Array<{ id: string; index: number }>;
        removed: string[];
      };
    };
    const query = { filter: { subject: "threaded" }, sort: [{ property: "receivedAt", isAscending: false }] };
    const before = await call("Email/query", query);
    expect(before).toMatchObject({ ids: [], canCalculateChanges: true });
    const state0 = (await call("Thread/get", { ids: [] })).state as string;
    const send = (raw: string) =>
      nodemailer.createTransport({
        host: "127.0.0.1",
        port: mail.server.ports.smtp,
        ignoreTLS: true,
        name: "client.test",
      }).sendMail({ envelope: { from: "zed@remote.test", to: ["jo@example.test"] }, raw });
    await send(
      "From: zed@remote.test\r\nTo: jo@example.test\r\nMessage-ID: <root@remote.test>\r\nSubject: threaded root\r\n\r\nroot\r\n",
    );
    await send(
      "From: zed@remote.test\r\nTo: jo@example.test\r\nMessage-ID: <reply@remote.test>\r\nIn-Reply-To: <root@remote.test>\r\nSubject: Re: threaded root\r\n\r\nreply\r\n",
    );

    // RFC 8620 §5.6: splice out `removed`, splice in `added` by index — the result is the new query.
    const changes = await call("Email/queryChanges", {
      ...query,
      sinceQueryState: before.queryState,
      calculateTotal: true,
    });
    const spliced = before.ids.filter((id) => !changes.removed.includes(id));
    for (const { id, index } of changes.added) spliced.splice(index, 0, id);
    const after = await call("Email/query", query);
    expect(after.ids).toHaveLength(2);
    expect(spliced).toEqual(after.ids);
    expect(changes.total).toBe(2);
    const [reply, root] = after.ids as [string, string];

    const threads = await call("Thread/changes", { sinceState: state0 });
    const { threadId } =
      ((await call("Email/get", { ids: [root], properties: ["threadId"] })).list as Array<{ threadId: string }>)[0]!;
    expect(threads).toMatchObject({ created: [threadId], updated: [], destroyed: [], hasMoreChanges: false });
    expect(((await call("Thread/get", { ids: [threadId] })).list as unknown[])[0]).toEqual({
      id: threadId,
      emailIds: [root, reply],
    });

    // maxChanges 1: one email per call, and a state in between.
    const first = await call("Email/changes", { sinceState: state0, maxChanges: 1 });
    expect(first).toMatchObject({ created: [root], hasMoreChanges: true });
    const rest = await call("Email/changes", { sinceState: first.newState, maxChanges: 1 });
    expect(rest).toMatchObject({ created: [reply], hasMoreChanges: false });

    // The reply leaves the thread (updated), then the root goes and the thread with it (destroyed).
    await call("Email/set", { destroy: [reply] });
    const shrunk = await call("Thread/changes", { sinceState: threads.newState });
    expect(shrunk).toMatchObject({ created: [], updated: [threadId], destroyed: [] });
    const gone = await call("Email/queryChanges", { ...query, sinceQueryState: after.queryState });
    expect(gone.removed).toEqual([reply]);
    expect(gone.added).toEqual([]);
    await call("Email/set", { destroy: [root] });
    expect(await call("Thread/changes", { sinceState: shrunk.newState })).toMatchObject({
      created: [],
      updated: [],
      destroyed: [threadId],
    });
    // Born and gone since the first state: nothing to tell.
    expect(await call("Thread/changes", { sinceState: state0 })).toMatchObject({
      created: [],
      updated: [],
      destroyed: [],
    });
    const tooMany = await call("Email/queryChanges", { ...query, sinceQueryState: before.queryState, maxChanges: 1 })
      .catch((e: unknown) => e);
    expect(tooMany).toMatchObject({ type: "tooManyChanges" });
  });

  test("bad requests get the JMAP errors the RFC names", async () => {
    const post = (body: string) =>
      fetch(`${base}/jmap/api`, {
        method: "POST",
        headers: { authorization: `Basic ${btoa("jo@example.test:jo-password")}`, "content-type": "application/json" },
        body,
      });
    expect(((await (await post("{nope")).json()) as { type: string }).type).toBe("urn:ietf:params:jmap:error:notJSON");
    expect(((await (await post('{"using":[]}')).json()) as { type: string }).type).toBe(
      "urn:ietf:params:jmap:error:notRequest",
    );
    expect(((await (await post('{"using":["urn:x"],"methodCalls":[]}')).json()) as { type: string }).type).toBe(
      "urn:ietf:params:jmap:error:unknownCapability",
    );
    const res = (await (await post(
      JSON.stringify({
        using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        methodCalls: [["Nope/get", {}, "a"], ["Mailbox/get", { accountId: "A999" }, "b"], [
          "Core/echo",
          { x: 1 },
          "c",
        ]],
      }),
    )).json()) as { methodResponses: unknown[] };
    const more = (await (await post(
      JSON.stringify({
        using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
        methodCalls: [
          ["Mailbox/query", { accountId, filter: { role: "inbox" } }, "q"],
          ["Email/queryChanges", { accountId, sinceQueryState: "999999999" }, "c"],
          ["Email/copy", { accountId, fromAccountId: "A999", create: {} }, "p"],
        ],
      }),
    )).json()) as { methodResponses: Array<[string, Record<string, unknown>, string]> };
    expect(more.methodResponses[0]![1].ids).toHaveLength(1);
    expect(more.methodResponses[1]).toMatchObject(["error", { type: "cannotCalculateChanges" }, "c"]);
    expect(more.methodResponses[2]).toMatchObject(["error", { type: "fromAccountNotFound" }, "p"]);
    expect(res.methodResponses).toEqual([
      ["error", { type: "unknownMethod", description: "No method Nope/get" }, "a"],
      ["error", { type: "accountNotFound", description: "No account A999" }, "b"],
      ["Core/echo", { x: 1 }, "c"],
    ]);
  });
});
