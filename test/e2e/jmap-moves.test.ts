/**
 * Moving mail and destroying mailboxes over JMAP (issue 17 bugs 2 and 3): a move keeps the email
 * id and is an update in Email/changes (RFC 8621 §4, RFC 8620 §5.3 patches); Mailbox/set destroy
 * answers mailboxHasEmail / mailboxHasChild and deletes nothing unless onDestroyRemoveEmails
 * (RFC 8621 §2.5), and then destroys only the emails that were in that mailbox alone.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let roles: Record<string, string>;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["http", "imaps"],
    users: { "jo@example.test": "jo-password" },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  roles = await jo.roles();
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

type SetResponse = {
  created?: Record<string, { id: string }>;
  updated?: Record<string, unknown>;
  destroyed?: string[];
  notUpdated?: Record<string, { type: string }>;
  notDestroyed?: Record<string, { type: string }>;
  newState: string;
};

let n = 0;
async function newEmail(mailboxIds: string[], subject = `email ${++n}`): Promise<string> {
  const set = (await jo.call("Email/set", {
    create: {
      e: {
        mailboxIds: Object.fromEntries(mailboxIds.map((id) => [id, true])),
        subject,
        textBody: [{ partId: "t", type: "text/plain" }],
        bodyValues: { t: { value: "x" } },
      },
    },
  })) as SetResponse;
  return set.created!.e!.id;
}

async function mailboxesOf(id: string): Promise<string[]> {
  const got = (await jo.call("Email/get", { ids: [id], properties: ["mailboxIds"] })) as {
    list: Array<{ mailboxIds: Record<string, true> }>;
    notFound: string[];
  };
  return got.list[0] ? Object.keys(got.list[0].mailboxIds).sort() : [];
}

async function createMailbox(name: string, parentId: string | null = null): Promise<string> {
  const set = (await jo.call("Mailbox/set", { create: { m: { name, parentId } } })) as SetResponse;
  if (!set.created?.m) throw new Error(`Mailbox/set create ${name}: ${JSON.stringify(set)}`);
  return set.created.m.id;
}

describe(`JMAP moves and mailbox destroy on ${runtime()}`, () => {
  test("mailbox hierarchy: parentId on create, get, query and update; names are one level (issue 17 item 7)", async () => {
    const session = (await (await fetch(`${jo.base}/jmap/session`, { headers: { authorization: jo.authorization } }))
      .json()) as { accounts: Record<string, { accountCapabilities: Record<string, Record<string, unknown>> }> };
    expect(session.accounts[jo.accountId]!.accountCapabilities["urn:ietf:params:jmap:mail"]!.mayCreateTopLevelMailbox)
      .toBe(true);
    const responses = await jo.request([
      ["Mailbox/set", { accountId: jo.accountId, create: { top: { name: "Work", parentId: null } } }, "0"],
      ["Mailbox/set", { accountId: jo.accountId, create: { sub: { name: "Clients", parentId: "#top" } } }, "1"],
    ]);
    const top = (responses[0]![1].created as Record<string, { id: string }>).top!.id;
    const sub = (responses[1]![1].created as Record<string, { id: string }>).sub!.id;
    const got = (await jo.call("Mailbox/get", { ids: [top, sub], properties: ["name", "parentId"] })) as {
      list: Array<{ id: string; name: string; parentId: string | null }>;
    };
    expect(got.list).toEqual([{ id: top, name: "Work", parentId: null }, { id: sub, name: "Clients", parentId: top }]);
    const children = (await jo.call("Mailbox/query", { filter: { parentId: top } })) as { ids: string[] };
    expect(children.ids).toEqual([sub]);
    // A name with the separator, a parent that does not exist, a mailbox inside itself: invalidProperties.
    const bad = (await jo.call("Mailbox/set", {
      create: { slash: { name: "a/b" }, orphan: { name: "x", parentId: "MB999999" } },
      update: { [top]: { parentId: sub } },
    })) as {
      notCreated: Record<string, { type: string; properties: string[] }>;
      notUpdated: Record<string, { type: string; properties: string[] }>;
    };
    expect(bad.notCreated.slash).toMatchObject({ type: "invalidProperties", properties: ["name"] });
    expect(bad.notCreated.orphan).toMatchObject({ type: "invalidProperties", properties: ["parentId"] });
    expect(bad.notUpdated[top]).toMatchObject({ type: "invalidProperties", properties: ["parentId"] });
    // Moving to the top level and renaming keep the id; IMAP's path follows.
    const moved = (await jo.call("Mailbox/set", { update: { [sub]: { parentId: null, name: "Customers" } } })) as {
      updated: Record<string, null>;
    };
    expect(moved.updated).toEqual({ [sub]: null });
    const after = (await jo.call("Mailbox/get", { ids: [sub], properties: ["name", "parentId"] })) as {
      list: Array<{ name: string; parentId: string | null }>;
    };
    expect(after.list[0]).toMatchObject({ name: "Customers", parentId: null });
  });

  test("a move by mailboxIds keeps the id; Email/changes says updated", async () => {
    const id = await newEmail([roles.inbox!]);
    const state = ((await jo.call("Email/get", { ids: [] })) as { state: string }).state;
    const set =
      (await jo.call("Email/set", { update: { [id]: { mailboxIds: { [roles.archive!]: true } } } })) as SetResponse;
    expect(Object.keys(set.updated ?? {})).toEqual([id]);
    expect(await mailboxesOf(id)).toEqual([roles.archive!]);
    const changes = await jo.call("Email/changes", { sinceState: state });
    expect(changes).toMatchObject({ created: [], updated: [id], destroyed: [] });
  });

  test('the patch form "mailboxIds/<id>": true / null moves, and IMAP sees the email in its new mailbox', async () => {
    const id = await newEmail([roles.inbox!], "patched move");
    const state = ((await jo.call("Email/get", { ids: [] })) as { state: string }).state;
    const set = (await jo.call("Email/set", {
      update: { [id]: { [`mailboxIds/${roles.trash}`]: true, [`mailboxIds/${roles.inbox}`]: null } },
    })) as SetResponse;
    expect(Object.keys(set.updated ?? {})).toEqual([id]);
    expect(await mailboxesOf(id)).toEqual([roles.trash!]);
    expect(await jo.call("Email/changes", { sinceState: state })).toMatchObject({
      created: [],
      updated: [id],
      destroyed: [],
    });
    // Leaving the last mailbox is refused, and changes nothing.
    const last =
      (await jo.call("Email/set", { update: { [id]: { [`mailboxIds/${roles.trash}`]: null } } })) as SetResponse;
    expect(last.notUpdated?.[id]?.type).toBe("invalidProperties");
    expect(await mailboxesOf(id)).toEqual([roles.trash!]);

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
    try {
      const lock = await imap.getMailboxLock("Trash");
      try {
        const found = await imap.search({ header: { subject: "patched move" } }, { uid: true });
        expect(found).toHaveLength(1);
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
    }
  });

  test("Mailbox/set destroy of a mailbox with email: mailboxHasEmail, nothing deleted", async () => {
    const box = await createMailbox("Keep");
    const id = await newEmail([box]);
    const set = (await jo.call("Mailbox/set", { destroy: [box] })) as SetResponse;
    expect(set.destroyed ?? []).toEqual([]);
    expect(set.notDestroyed?.[box]?.type).toBe("mailboxHasEmail");
    expect(await mailboxesOf(id)).toEqual([box]);
    const explicit = (await jo.call("Mailbox/set", { destroy: [box], onDestroyRemoveEmails: false })) as SetResponse;
    expect(explicit.notDestroyed?.[box]?.type).toBe("mailboxHasEmail");
    expect(await mailboxesOf(id)).toEqual([box]);
  });

  test("Mailbox/set destroy of a mailbox with a child: mailboxHasChild, by parentId or by name", async () => {
    const parent = await createMailbox("Parent");
    const child = await createMailbox("Child", parent);
    const set = (await jo.call("Mailbox/set", { destroy: [parent] })) as SetResponse;
    expect(set.notDestroyed?.[parent]?.type).toBe("mailboxHasChild");
    const got = (await jo.call("Mailbox/get", { ids: [parent, child] })) as { list: unknown[] };
    expect(got.list).toHaveLength(2);
    // Both in one call: the child goes first, then its parent.
    const both = (await jo.call("Mailbox/set", { destroy: [parent, child] })) as SetResponse;
    expect((both.destroyed ?? []).sort()).toEqual([child, parent].sort());
  });

  test("onDestroyRemoveEmails: emails only there are destroyed, emails also elsewhere lose that mailbox", async () => {
    const box = await createMailbox("Doomed");
    const only = await newEmail([box]);
    const shared = await newEmail([box, roles.inbox!]);
    const state = ((await jo.call("Email/get", { ids: [] })) as { state: string }).state;
    const set = (await jo.call("Mailbox/set", { destroy: [box], onDestroyRemoveEmails: true })) as SetResponse;
    expect(set.destroyed).toEqual([box]);
    expect(await mailboxesOf(only)).toEqual([]);
    expect(await mailboxesOf(shared)).toEqual([roles.inbox!]);
    expect(await jo.call("Email/changes", { sinceState: state })).toMatchObject({
      created: [],
      updated: [shared],
      destroyed: [only],
    });
  });
});
