/**
 * IMAP conformance, scripted sessions with exact responses against `postern serve` (issue 16):
 * subscriptions and LIST-EXTENDED, \Recent, BINARY of quoted-printable, CONDSTORE in untagged
 * FETCH, and the smaller cases.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { imapScript } from "../helpers/imap-script.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
const USERS = ["sub", "rec", "bin", "mod", "misc"].map((u) => `${u}@example.test`);

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["imaps"],
    users: Object.fromEntries(USERS.map((u) => [u, `${u}-password`])),
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const open = (user: string) => imapScript(mail.server.ports.imaps!, user, `${user}-password`);

describe(`IMAP conformance on ${runtime()}`, () => {
  test("subscriptions are names: DELETE keeps them, CREATE adds none; LIST-EXTENDED selection options (RFC 5258)", async () => {
    const s = await open("sub@example.test");
    expect((await s.run("CREATE Fruit/Apple")).done).toMatch(/^OK/);
    expect((await s.run("CREATE Fruit/Banana")).done).toMatch(/^OK/);
    expect((await s.run("CREATE Veg")).done).toMatch(/^OK/);
    // CREATE subscribes nothing.
    expect((await s.run('LSUB "" "*"')).untagged).toEqual([
      '* LSUB () "/" "INBOX"',
      '* LSUB () "/" "Archive"',
      '* LSUB () "/" "Drafts"',
      '* LSUB () "/" "Junk"',
      '* LSUB () "/" "Sent"',
      '* LSUB () "/" "Trash"',
    ]);
    expect((await s.run("SUBSCRIBE Fruit/Banana")).done).toMatch(/^OK/);
    expect((await s.run("SUBSCRIBE Veg")).done).toMatch(/^OK/);
    // A name may be subscribed before any mailbox has it.
    expect((await s.run("SUBSCRIBE Nuts")).done).toMatch(/^OK/);
    // DELETE does not unsubscribe (RFC 3501 §6.3.6 / RFC 9051 §6.3.7).
    expect((await s.run("DELETE Veg")).done).toMatch(/^OK/);
    expect((await s.run('LIST (SUBSCRIBED) "" "*"')).untagged).toEqual([
      '* LIST (\\HasNoChildren \\Subscribed) "/" "INBOX"',
      '* LIST (\\HasNoChildren \\Archive \\Subscribed) "/" "Archive"',
      '* LIST (\\HasNoChildren \\Drafts \\Subscribed) "/" "Drafts"',
      '* LIST (\\HasNoChildren \\Subscribed) "/" "Fruit/Banana"',
      '* LIST (\\HasNoChildren \\Junk \\Subscribed) "/" "Junk"',
      '* LIST (\\NonExistent \\Noselect \\HasNoChildren \\Subscribed) "/" "Nuts"',
      '* LIST (\\HasNoChildren \\Sent \\Subscribed) "/" "Sent"',
      '* LIST (\\HasNoChildren \\Trash \\Subscribed) "/" "Trash"',
      '* LIST (\\NonExistent \\Noselect \\HasNoChildren \\Subscribed) "/" "Veg"',
    ]);
    // RFC 5258 §3.5: a parent the pattern matches, not subscribed (here not even a mailbox), with a
    // subscribed child.
    expect((await s.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" "F%"')).untagged).toEqual([
      '* LIST (\\NonExistent \\Noselect \\HasChildren) "/" "Fruit" ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    expect((await s.run("CREATE Fruit")).done).toMatch(/^OK/);
    expect((await s.run('LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)')).untagged).toContain(
      '* LIST (\\HasChildren) "/" "Fruit" ("CHILDINFO" ("SUBSCRIBED"))',
    );
    // LSUB with "%": the parent of a subscribed child, as \Noselect (RFC 3501 §6.3.9).
    expect((await s.run('LSUB "" "F%"')).untagged).toEqual(['* LSUB (\\Noselect) "/" "Fruit"']);
    expect((await s.run('LSUB "" "V%"')).untagged).toEqual(['* LSUB (\\Noselect) "/" "Veg"']);
    // RFC 5258 §3: RECURSIVEMATCH alone, or an unknown option, is BAD.
    expect((await s.run('LIST (RECURSIVEMATCH) "" "*"')).done).toMatch(/^BAD /);
    expect((await s.run('LIST (REMOTE RECURSIVEMATCH) "" "*"')).done).toMatch(/^BAD /);
    expect((await s.run('LIST (FROBNICATE) "" "*"')).done).toMatch(/^BAD /);
    expect((await s.run('LIST (REMOTE) "" "Fruit/%"')).untagged).toEqual([
      '* LIST (\\HasNoChildren) "/" "Fruit/Apple"',
      '* LIST (\\HasNoChildren) "/" "Fruit/Banana"',
    ]);
    // RETURN (SUBSCRIBED) marks subscribed names among existing mailboxes.
    expect((await s.run('LIST "" "Fruit/%" RETURN (SUBSCRIBED)')).untagged).toEqual([
      '* LIST (\\HasNoChildren) "/" "Fruit/Apple"',
      '* LIST (\\HasNoChildren \\Subscribed) "/" "Fruit/Banana"',
    ]);
    // Created again under a subscribed name, the mailbox is subscribed; UNSUBSCRIBE clears it.
    expect((await s.run("CREATE Veg")).done).toMatch(/^OK/);
    expect((await s.run('LIST "" "Veg" RETURN (SUBSCRIBED)')).untagged).toEqual([
      '* LIST (\\HasNoChildren \\Subscribed) "/" "Veg"',
    ]);
    expect((await s.run("UNSUBSCRIBE Nuts")).done).toMatch(/^OK/);
    expect((await s.run('LSUB "" "N*"')).untagged).toEqual([]);
    await s.close();
  });
});

describe(`\\Recent on ${runtime()}`, () => {
  test("exactly one IMAP4rev1 session sees a new message as \\Recent; RECENT on SELECT and on new mail; SEARCH RECENT/NEW; none in IMAP4rev2 (RFC 3501 §2.3.2)", async () => {
    const a = await open("rec@example.test");
    const b = await open("rec@example.test");
    const c = await open("rec@example.test");
    expect((await c.run("ENABLE IMAP4rev2")).untagged).toEqual(["* ENABLED IMAP4REV2"]);
    expect((await a.run("CREATE Box")).done).toMatch(/^OK/);
    for (const subject of ["one", "two"]) {
      expect((await a.runLiteral("APPEND Box (\\Seen)", `Subject: ${subject}\r\n\r\nx\r\n`)).done).toMatch(/^OK/);
    }
    expect((await c.run("STATUS Box (MESSAGES RECENT)")).untagged).toEqual(['* STATUS "Box" (MESSAGES 2 RECENT 2)']);
    // The IMAP4rev2 session shows no \Recent and takes none.
    const rev2 = await c.run("SELECT Box");
    expect(rev2.untagged.some((l) => l.includes("RECENT"))).toBe(false);
    const first = await a.run("SELECT Box");
    expect(first.untagged.slice(0, 2)).toEqual(["* 2 EXISTS", "* 2 RECENT"]);
    const second = await b.run("SELECT Box");
    expect(second.untagged.slice(0, 2)).toEqual(["* 2 EXISTS", "* 0 RECENT"]);
    expect((await a.run("FETCH 1:2 (FLAGS)")).untagged).toEqual([
      "* 1 FETCH (FLAGS (\\Seen \\Recent))",
      "* 2 FETCH (FLAGS (\\Seen \\Recent))",
    ]);
    expect((await b.run("FETCH 1:2 (FLAGS)")).untagged).toEqual([
      "* 1 FETCH (FLAGS (\\Seen))",
      "* 2 FETCH (FLAGS (\\Seen))",
    ]);
    // New mail: the first session to hear of it (here b, by its own APPEND) gets it as recent.
    expect((await b.runLiteral("APPEND Box ()", "Subject: three\r\n\r\nx\r\n")).untagged).toEqual([
      "* 3 EXISTS",
      "* 1 RECENT",
    ]);
    expect((await a.run("NOOP")).untagged).toEqual(["* 3 EXISTS", "* 2 RECENT"]);
    expect((await a.run("SEARCH RECENT")).untagged).toEqual(["* SEARCH 1 2"]);
    expect((await a.run("SEARCH NEW")).untagged).toEqual(["* SEARCH"]);
    expect((await b.run("SEARCH NEW")).untagged).toEqual(["* SEARCH 3"]);
    expect((await b.run("SEARCH OLD")).untagged).toEqual(["* SEARCH 1 2"]);
    expect((await b.run("STORE 3 +FLAGS (\\Flagged)")).untagged).toEqual(["* 3 FETCH (FLAGS (\\Flagged \\Recent))"]);
    expect((await c.run("NOOP")).untagged).toContain("* 3 EXISTS");
    expect((await c.run("FETCH 3 (FLAGS)")).untagged).toEqual(["* 3 FETCH (FLAGS (\\Flagged))"]);
    for (const s of [a, b, c]) await s.close();
  });
});
