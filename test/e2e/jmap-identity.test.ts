/**
 * JMAP objects kept in the database (issue 17 item 9): Identity/get, /set, /changes with the
 * account's address and its aliases as the allowed emails (forbiddenFrom otherwise);
 * EmailSubmission/get, /query, /changes that outlive a restart, with deliveryStatus following
 * the outbound queue; VacationResponse/get and /set (RFC 8621 §6-§8).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession, USING } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { RecordingMx } from "../helpers/recording-mx.ts";
import { runtime } from "../helpers/runtime.ts";

const ALL = [...USING, "urn:ietf:params:jmap:vacationresponse"];

let mail: MailServer;
let mx: RecordingMx;
let jo: JmapSession;
let kim: JmapSession;

beforeAll(async () => {
  mx = await RecordingMx.start();
  mail = await startMailServer({
    waitFor: ["http", "smtp"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
    config: { delivery: { transport: { "*": `127.0.0.1:${mx.port}` }, retryDelay: 1 } },
    setup: [["alias", "add", "sales@example.test", "jo@example.test"]],
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close();
});

type SetResponse = {
  newState: string;
  created?: Record<string, { id: string }>;
  notCreated?: Record<string, { type: string; properties?: string[] }>;
  updated?: Record<string, null>;
  notUpdated?: Record<string, { type: string; properties?: string[] }>;
  destroyed?: string[];
  notDestroyed?: Record<string, { type: string }>;
};

/** A VacationResponse call with its capability in using: the response's arguments. */
const vacation = async (session: JmapSession, method: string, args: Record<string, unknown> = {}) =>
  (await session.request([[method, { accountId: session.accountId, ...args }, "0"]], ALL))[0]![1];

async function until<T>(what: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await what();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error("Timed out");
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe(`JMAP identities, submissions and vacation on ${runtime()}`, () => {
  test("Identity/set with the account's address and aliases; others are forbiddenFrom; /changes follows", async () => {
    const first = (await jo.call("Identity/get", {})) as { state: string; list: Array<{ id: string; email: string }> };
    expect(first.list.map((i) => i.email)).toEqual(["jo@example.test"]);
    const set = (await jo.call("Identity/set", {
      create: {
        sales: { name: "Jo at Sales", email: "sales@example.test", textSignature: "-- Sales" },
        stolen: { email: "kim@example.test" },
        serverSet: { email: "jo@example.test", mayDelete: false },
        badReplyTo: { email: "jo@example.test", replyTo: "me" },
      },
    })) as SetResponse;
    const sales = set.created!.sales!.id;
    expect(set.notCreated!.stolen!.type).toBe("forbiddenFrom");
    expect(set.notCreated!.serverSet).toMatchObject({ type: "invalidProperties", properties: ["mayDelete"] });
    expect(set.notCreated!.badReplyTo).toMatchObject({ type: "invalidProperties", properties: ["replyTo"] });

    const update = (await jo.call("Identity/set", {
      update: {
        [sales]: { htmlSignature: "<b>Sales</b>", replyTo: [{ name: null, email: "sales@example.test" }] },
        [first.list[0]!.id]: { email: "other@example.test" },
      },
    })) as SetResponse;
    expect(Object.keys(update.updated!)).toEqual([sales]);
    expect(update.notUpdated![first.list[0]!.id]).toMatchObject({ properties: ["email"] });

    const got = (await jo.call("Identity/get", { ids: [sales, "I999999"] })) as {
      list: Array<Record<string, unknown>>;
      notFound: string[];
    };
    expect(got.list).toEqual([{
      id: sales,
      name: "Jo at Sales",
      email: "sales@example.test",
      replyTo: [{ name: null, email: "sales@example.test" }],
      bcc: null,
      textSignature: "-- Sales",
      htmlSignature: "<b>Sales</b>",
      mayDelete: true,
    }]);
    expect(got.notFound).toEqual(["I999999"]);

    const changes = (await jo.call("Identity/changes", { sinceState: first.state })) as Record<string, string[]>;
    expect(changes.created).toEqual([sales]);
    // Kim never sees Jo's identities.
    const kims = (await kim.call("Identity/get", { ids: [sales] })) as { list: unknown[]; notFound: string[] };
    expect(kims).toMatchObject({ list: [], notFound: [sales] });
    const kimSet =
      (await kim.call("Identity/set", { update: { [sales]: { name: "x" } }, destroy: [sales] })) as SetResponse;
    expect(kimSet.notUpdated![sales]!.type).toBe("notFound");
    expect(kimSet.notDestroyed![sales]!.type).toBe("notFound");
  });

  test(
    "EmailSubmission is stored: /get, /query, /changes, deliveryStatus from the queue, after a restart",
    async () => {
      const drafts = (await jo.roles()).drafts!;
      const identities = (await jo.call("Identity/get", {})) as { list: Array<{ id: string; email: string }> };
      const identityId = identities.list.find((i) => i.email === "jo@example.test")!.id;
      const before = ((await jo.call("EmailSubmission/get", { ids: [] })) as { state: string }).state;
      const [, [, set]] = await jo.request([
        ["Email/set", {
          accountId: jo.accountId,
          create: {
            d: {
              mailboxIds: { [drafts]: true },
              from: [{ email: "jo@example.test" }],
              to: [{ email: "kim@example.test" }, { email: "far@remote.test" }],
              subject: "stored submission",
              messageId: ["stored-submission@example.test"],
              bodyStructure: { type: "text/plain", partId: "t" },
              bodyValues: { t: { value: "hello" } },
            },
          },
        }, "0"],
        ["EmailSubmission/set", { accountId: jo.accountId, create: { s: { identityId, emailId: "#d" } } }, "1"],
      ]) as [unknown, [string, SetResponse]];
      const id = set.created!.s!.id;

      // The remote recipient is queued until the MX takes it; the queue then records "yes".
      await until(async () => (mx.received.get("stored-submission@example.test") ? true : undefined));
      const delivered = await until(async () => {
        const got = (await jo.call("EmailSubmission/get", { ids: [id] })) as {
          list: Array<{ deliveryStatus: Record<string, { delivered: string; smtpReply: string }> }>;
        };
        const status = got.list[0]!.deliveryStatus;
        return status["far@remote.test"]!.delivered === "yes" ? status : undefined;
      });
      expect(delivered["kim@example.test"]!.delivered).toBe("yes");
      expect(delivered["far@remote.test"]!.smtpReply).toMatch(/^250/);

      await mail.server.restart();
      jo = await jmapSession(mail, "jo@example.test", "jo-password");
      kim = await jmapSession(mail, "kim@example.test", "kim-password");
      const got = (await jo.call("EmailSubmission/get", { ids: [id] })) as { list: Array<Record<string, unknown>> };
      expect(got.list[0]).toMatchObject({
        id,
        identityId,
        undoStatus: "final",
        envelope: {
          mailFrom: { email: "jo@example.test" },
          rcptTo: [{ email: "kim@example.test" }, { email: "far@remote.test" }],
        },
        dsnBlobIds: [],
      });
      const query = (await jo.call("EmailSubmission/query", {
        filter: { identityIds: [identityId], undoStatus: "final" },
        sort: [{ property: "sentAt", isAscending: false }],
      })) as { ids: string[] };
      expect(query.ids).toContain(id);
      const changes = (await jo.call("EmailSubmission/changes", { sinceState: before })) as Record<string, string[]>;
      expect(changes.created).toEqual([id]);

      // Kim cannot read, cancel or destroy it.
      expect(((await kim.call("EmailSubmission/get", { ids: [id] })) as { notFound: string[] }).notFound).toEqual([id]);
      expect(((await kim.call("EmailSubmission/query", {})) as { ids: string[] }).ids).toEqual([]);
      const kimSet = (await kim.call("EmailSubmission/set", {
        update: { [id]: { undoStatus: "canceled" } },
        destroy: [id],
      })) as SetResponse;
      expect(kimSet.notUpdated![id]!.type).toBe("notFound");
      expect(kimSet.notDestroyed![id]!.type).toBe("notFound");

      const destroyed = (await jo.call("EmailSubmission/set", { destroy: [id] })) as SetResponse;
      expect(destroyed.destroyed).toEqual([id]);
      expect(((await jo.call("EmailSubmission/get", { ids: [id] })) as { notFound: string[] }).notFound).toEqual([id]);
    },
    60_000,
  );

  test("sending from an alias identity; a From the account may not use is forbiddenFrom", async () => {
    const drafts = (await jo.roles()).drafts!;
    const identities = (await jo.call("Identity/get", {})) as { list: Array<{ id: string; email: string }> };
    const sales = identities.list.find((i) => i.email === "sales@example.test")!.id;
    const responses = await jo.request([
      ["Email/set", {
        accountId: jo.accountId,
        create: {
          ok: {
            mailboxIds: { [drafts]: true },
            from: [{ email: "sales@example.test" }],
            to: [{ email: "kim@example.test" }],
            subject: "from sales",
          },
          spoof: {
            mailboxIds: { [drafts]: true },
            from: [{ email: "ceo@example.test" }],
            to: [{ email: "kim@example.test" }],
            subject: "spoof",
          },
        },
      }, "0"],
      ["EmailSubmission/set", {
        accountId: jo.accountId,
        create: {
          ok: { identityId: sales, emailId: "#ok" },
          spoofEnvelope: { identityId: sales, emailId: "#spoof" },
          spoof: {
            identityId: sales,
            emailId: "#spoof",
            envelope: { mailFrom: { email: "sales@example.test" }, rcptTo: [{ email: "kim@example.test" }] },
          },
        },
      }, "1"],
    ]);
    const set = responses[1]![1] as SetResponse;
    expect(Object.keys(set.created!)).toEqual(["ok"]);
    expect(set.notCreated!.spoofEnvelope!.type).toBe("forbiddenMailFrom");
    expect(set.notCreated!.spoof!.type).toBe("forbiddenFrom");
  });

  test("VacationResponse/get and /set: the singleton, stored with its dates", async () => {
    const initial = await vacation(jo, "VacationResponse/get");
    expect(initial).toMatchObject({
      list: [{ id: "singleton", isEnabled: false, fromDate: null, toDate: null, subject: null }],
      notFound: [],
    });
    const set = await vacation(jo, "VacationResponse/set", {
      update: {
        singleton: {
          isEnabled: true,
          fromDate: "2026-12-20T00:00:00Z",
          toDate: "2027-01-05T00:00:00Z",
          subject: "Away",
          textBody: "Back in January",
        },
      },
      create: { again: {} },
      destroy: ["singleton"],
    });
    expect(set).toMatchObject({
      updated: { singleton: null },
      notCreated: { again: { type: "singleton" } },
      notDestroyed: { singleton: { type: "singleton" } },
    });
    const bad = await vacation(jo, "VacationResponse/set", { update: { singleton: { fromDate: "tomorrow" } } });
    expect(bad).toMatchObject({ notUpdated: { singleton: { type: "invalidProperties", properties: ["fromDate"] } } });

    await mail.server.restart();
    jo = await jmapSession(mail, "jo@example.test", "jo-password");
    kim = await jmapSession(mail, "kim@example.test", "kim-password");
    const got = await vacation(jo, "VacationResponse/get");
    expect((got as { list: unknown[] }).list[0]).toEqual({
      id: "singleton",
      isEnabled: true,
      fromDate: "2026-12-20T00:00:00Z",
      toDate: "2027-01-05T00:00:00Z",
      subject: "Away",
      textBody: "Back in January",
      htmlBody: null,
    });
    const kims = await vacation(kim, "VacationResponse/get");
    expect((kims as { list: Array<{ isEnabled: boolean }> }).list[0]!.isEnabled).toBe(false);
    // Without the capability in using, the method does not exist (RFC 8620 §3.3).
    const [without] = await jo.request([["VacationResponse/get", { accountId: jo.accountId }, "0"]]);
    expect(without![0]).toBe("error");
  }, 60_000);
});
