/**
 * Paging /query results (issue 17 item 8, RFC 8620 §5.5): a negative position counts from the
 * end, anchor with anchorOffset starts the window at an id (anchorNotFound when it is not in the
 * results), limit must not be negative and is returned only when the server lowered it;
 * Mailbox/query honours position and limit too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
let jo: JmapSession;
let box: string;
/** The emails of `box`, oldest first. */
const ids: string[] = [];

beforeAll(async () => {
  mail = await startMailServer({ waitFor: ["http"], users: { "jo@example.test": "jo-password" } });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  const made = (await jo.call("Mailbox/set", { create: { b: { name: "Paged" } } })) as {
    created: Record<string, { id: string }>;
  };
  box = made.created.b!.id;
  for (let i = 0; i < 5; i++) {
    const set = (await jo.call("Email/set", {
      create: {
        e: {
          mailboxIds: { [box]: true },
          subject: `page ${i}`,
          receivedAt: `2026-01-0${i + 1}T00:00:00Z`,
          textBody: [{ partId: "t" }],
          bodyValues: { t: { value: "x" } },
        },
      },
    })) as { created: Record<string, { id: string }> };
    ids.push(set.created.e!.id);
  }
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

type Query = { ids: string[]; position: number; limit?: number; total?: number };
const query = (args: Record<string, unknown>) =>
  jo.call("Email/query", {
    filter: { inMailbox: box },
    sort: [{ property: "receivedAt", isAscending: true }],
    ...args,
  }) as Promise<Query & { type?: string }>;

describe(`JMAP query paging on ${runtime()}`, () => {
  test("a negative position counts from the end, and is clamped at the start", async () => {
    expect(await query({ position: -2 })).toMatchObject({ ids: ids.slice(3), position: 3 });
    expect(await query({ position: -10, limit: 2 })).toMatchObject({ ids: ids.slice(0, 2), position: 0 });
    // The same through the general path (a filter the index cannot serve).
    const filtered = await query({ position: -2, filter: { inMailbox: box, text: "page" } });
    expect(filtered).toMatchObject({ ids: ids.slice(3), position: 3 });
  });

  test("anchor and anchorOffset start the window at an id; an unknown anchor is anchorNotFound", async () => {
    expect(await query({ anchor: ids[2], anchorOffset: -1, limit: 2 })).toMatchObject({
      ids: [ids[1], ids[2]],
      position: 1,
    });
    expect(await query({ anchor: ids[0], anchorOffset: -3 })).toMatchObject({ ids, position: 0 });
    expect(await query({ anchor: ids[4], anchorOffset: 1 })).toMatchObject({ ids: [], position: 5 });
    expect((await query({ anchor: "M999999" })).type).toBe("anchorNotFound");
  });

  test("limit: a negative one is invalidArguments; it comes back only when lowered", async () => {
    expect((await query({ limit: -1 })).type).toBe("invalidArguments");
    expect((await query({ position: 1.5 })).type).toBe("invalidArguments");
    const within = await query({ limit: 3 });
    expect(within.ids).toEqual(ids.slice(0, 3));
    expect(within).not.toHaveProperty("limit");
    expect((await query({ limit: 5000 })).limit).toBe(1000);
  });

  test("Mailbox/query honours position and limit", async () => {
    const all = (await jo.call("Mailbox/query", { sort: [{ property: "name" }] })) as Query;
    const page = (await jo.call("Mailbox/query", { sort: [{ property: "name" }], position: 1, limit: 2 })) as Query;
    expect(page).toMatchObject({ ids: all.ids.slice(1, 3), position: 1, total: all.ids.length });
  });
});
