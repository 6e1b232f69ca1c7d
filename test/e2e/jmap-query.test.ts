/**
 * Email/query filters and sorts of RFC 8621 §4.4 (issue 17 item 9): `header` by name and by
 * value, the thread conditions and sorts (all/some/noneInThreadHaveKeyword), hasKeyword sorting,
 * collapseThreads; Email/queryChanges, refused for thread-wide queries; EmailSubmission/queryChanges.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let inbox: string;
/** Email ids by name: a and b share a thread (b replies to a), c is alone. */
const ids: Record<string, string> = {};

const message = (headers: string[], body = "text") =>
  [...headers, "From: zed@remote.test", "To: jo@example.test", "Date: Mon, 2 Feb 2026 10:00:00 +0100", "", body, ""]
    .join("\r\n");

async function importAs(name: string, raw: string, keywords: Record<string, true>) {
  const { blobId } = await jo.upload(raw, "message/rfc822");
  const done = (await jo.call("Email/import", {
    emails: { [name]: { blobId, mailboxIds: { [inbox]: true }, keywords } },
  })) as { created: Record<string, { id: string }> };
  ids[name] = done.created[name]!.id;
}

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  inbox = (await jo.roles()).inbox!;
  await importAs("a", message(["Subject: alpha", "Message-ID: <a@remote.test>", "X-Tag: Urgent"]), { $flagged: true });
  await importAs(
    "b",
    message(["Subject: Re: alpha", "Message-ID: <b@remote.test>", "In-Reply-To: <a@remote.test>"]),
    { $seen: true },
  );
  await importAs("c", message(["Subject: gamma", "Message-ID: <c@remote.test>", "X-Note: =?UTF-8?Q?caf=C3=A9?="]), {
    $seen: true,
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const USING_ALL = [
  "urn:ietf:params:jmap:core",
  "urn:ietf:params:jmap:mail",
  "urn:ietf:params:jmap:submission",
];

async function query(args: Record<string, unknown>) {
  return (await jo.call("Email/query", args)) as { ids: string[]; canCalculateChanges: boolean; queryState: string };
}

/** The names of the ids a filter matches, sorted. */
async function matching(filter: Record<string, unknown>) {
  const names = Object.fromEntries(Object.entries(ids).map(([name, id]) => [id, name]));
  return (await query({ filter })).ids.map((id) => names[id]).sort();
}

describe(`JMAP Email/query on ${runtime()}`, () => {
  test("a and b are one thread, c another", async () => {
    const got = (await jo.call("Email/get", { ids: Object.values(ids), properties: ["threadId"] })) as {
      list: Array<{ id: string; threadId: string }>;
    };
    const thread = Object.fromEntries(got.list.map((e) => [e.id, e.threadId]));
    expect(thread[ids.a!]).toBe(thread[ids.b!]!);
    expect(thread[ids.c!]).not.toBe(thread[ids.a!]!);
  });

  test("header: [name] has the field, [name, value] has it containing the text (RFC 8621 §4.4.1)", async () => {
    expect(await matching({ header: ["X-Tag"] })).toEqual(["a"]);
    expect(await matching({ header: ["x-tag", "URG"] })).toEqual(["a"]);
    expect(await matching({ header: ["X-Tag", "low"] })).toEqual([]);
    // The value is compared decoded (RFC 2047).
    expect(await matching({ header: ["X-Note", "café"] })).toEqual(["c"]);
    expect(await matching({ header: ["In-Reply-To"] })).toEqual(["b"]);
    expect(await matching({ operator: "NOT", conditions: [{ header: ["X-Tag"] }] })).toEqual(["b", "c"]);
  });

  test("allInThreadHaveKeyword, someInThreadHaveKeyword, noneInThreadHaveKeyword look at the whole thread", async () => {
    expect(await matching({ someInThreadHaveKeyword: "$seen" })).toEqual(["a", "b", "c"]);
    expect(await matching({ allInThreadHaveKeyword: "$seen" })).toEqual(["c"]);
    expect(await matching({ someInThreadHaveKeyword: "$flagged" })).toEqual(["a", "b"]);
    expect(await matching({ noneInThreadHaveKeyword: "$flagged" })).toEqual(["c"]);
    expect(await matching({ hasKeyword: "$flagged" })).toEqual(["a"]);
    expect(await matching({ notKeyword: "$seen" })).toEqual(["a"]);
  });

  test("sort by hasKeyword and someInThreadHaveKeyword (RFC 8621 §4.4.2), which need a keyword", async () => {
    const flaggedFirst = await query({
      sort: [{ property: "hasKeyword", keyword: "$flagged", isAscending: false }, {
        property: "subject",
        isAscending: true,
      }],
    });
    expect(flaggedFirst.ids).toEqual([ids.a!, ids.c!, ids.b!]);
    const threadFlagged = await query({
      sort: [{ property: "someInThreadHaveKeyword", keyword: "$flagged", isAscending: false }, {
        property: "subject",
        isAscending: true,
      }],
    });
    expect(threadFlagged.ids).toEqual([ids.a!, ids.b!, ids.c!]);
    const noKeyword = await jo.call("Email/query", { sort: [{ property: "hasKeyword" }] });
    expect(noKeyword.type).toBe("invalidArguments");
  });

  test("collapseThreads gives one email per thread", async () => {
    const collapsed = await query({ collapseThreads: true, sort: [{ property: "subject" }] });
    expect(collapsed.ids).toHaveLength(2);
    expect(collapsed.ids).toContain(ids.c!);
    expect(collapsed.canCalculateChanges).toBe(false);
  });

  test("Email/queryChanges splices a plain query; a thread-wide one must be re-run (RFC 8620 §5.6)", async () => {
    const before = await query({ filter: { hasKeyword: "$seen" } });
    const threadWide = await query({ filter: { allInThreadHaveKeyword: "$seen" } });
    expect(before.canCalculateChanges).toBe(true);
    expect(threadWide.canCalculateChanges).toBe(false);
    // Marking a seen makes its whole thread seen: b is in the thread query without changing itself.
    await jo.call("Email/set", { update: { [ids.a!]: { "keywords/$seen": true } } });
    const changes = (await jo.call("Email/queryChanges", {
      filter: { hasKeyword: "$seen" },
      sinceQueryState: before.queryState,
    })) as { removed: string[]; added: Array<{ id: string; index: number }> };
    expect(changes.added.map((a) => a.id)).toEqual([ids.a!]);
    const refused = await jo.call("Email/queryChanges", {
      filter: { allInThreadHaveKeyword: "$seen" },
      sinceQueryState: threadWide.queryState,
    });
    expect(refused.type).toBe("cannotCalculateChanges");
    expect(await matching({ allInThreadHaveKeyword: "$seen" })).toEqual(["a", "b", "c"]);
  });

  test("EmailSubmission/queryChanges adds a submission made since (RFC 8620 §5.6)", async () => {
    const [, before] = (await jo.request([
      ["EmailSubmission/query", { accountId: jo.accountId }, "q"],
    ], USING_ALL))[0] as [string, { queryState: string; canCalculateChanges: boolean; ids: string[] }, string];
    expect(before!.canCalculateChanges).toBe(true);
    const identityId = ((await jo.call("Identity/get", {})) as { list: Array<{ id: string }> }).list[0]!.id;
    const drafts = (await jo.roles()).drafts!;
    const sent = await jo.request([
      ["Email/set", {
        accountId: jo.accountId,
        create: {
          d: {
            mailboxIds: { [drafts]: true },
            from: [{ email: "jo@example.test" }],
            to: [{ email: "kim@example.test" }],
            subject: "submitted",
            textBody: [{ partId: "t" }],
            bodyValues: { t: { value: "hello" } },
          },
        },
      }, "0"],
      ["EmailSubmission/set", { accountId: jo.accountId, create: { s: { identityId, emailId: "#d" } } }, "1"],
    ], USING_ALL);
    const submission = (sent[1]![1].created as Record<string, { id: string }>).s!.id;
    const [name, changes] = (await jo.request([
      ["EmailSubmission/queryChanges", { accountId: jo.accountId, sinceQueryState: before!.queryState }, "c"],
    ], USING_ALL))[0] as [string, { added: Array<{ id: string; index: number }>; removed: string[] }, string];
    expect(name).toBe("EmailSubmission/queryChanges");
    expect(changes!.added).toEqual([{ id: submission, index: before!.ids.length }]);
  });
});
