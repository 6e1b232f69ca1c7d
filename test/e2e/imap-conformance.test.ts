/**
 * IMAP conformance, scripted sessions with exact responses against `postern serve` (issue 16):
 * subscriptions and LIST-EXTENDED, \Recent, BINARY of quoted-printable, CONDSTORE in untagged
 * FETCH, the smaller cases, and the extensions (SORT, THREAD, ESORT, SEARCHRES...).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { imapScript } from "../helpers/imap-script.ts";
import { jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
const USERS = ["sub", "rec", "bin", "mod", "misc", "sort"].map((u) => `${u}@example.test`);

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["imaps", "http"],
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

describe(`BINARY on ${runtime()}`, () => {
  test("BINARY of a quoted-printable part drops white space at the end of encoded lines and joins soft breaks (RFC 3516, RFC 2045 §6.7)", async () => {
    const s = await open("bin@example.test");
    const message = 'Subject: qp\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
      "--b\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
      "Trailing  \t\r\nkept=20\r\nsoft =\r\nbreak\r\n--b--\r\n";
    expect((await s.runLiteral("APPEND INBOX", message)).done).toMatch(/^OK/);
    expect((await s.run("SELECT INBOX")).done).toMatch(/^OK/);
    const decoded = "Trailing\r\nkept \r\nsoft break";
    expect((await s.run("FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])")).untagged).toEqual([
      `* 1 FETCH (BINARY.SIZE[1] ${decoded.length} BINARY[1] {${decoded.length}}`,
      "Trailing",
      "kept ",
      "soft break)",
    ]);
    await s.close();
  });
});

describe(`CONDSTORE on ${runtime()}`, () => {
  test("once enabled (here by FETCH MODSEQ), untagged FETCH from STORE, UID STORE and other sessions carry MODSEQ (and UID); SELECT reports HIGHESTMODSEQ (RFC 7162 §3.1)", async () => {
    const a = await open("mod@example.test");
    const b = await open("mod@example.test");
    for (const s of [a, b]) await s.run("ENABLE IMAP4rev2");
    expect((await a.run("CREATE Box")).done).toMatch(/^OK/);
    const appended = await a.runLiteral("APPEND Box ()", "Subject: m\r\n\r\nx\r\n");
    const uid = Number(/APPENDUID \d+ (\d+)/.exec(appended.done)![1]);
    const selected = await a.run("SELECT Box");
    const highest = Number(
      /^\* OK \[HIGHESTMODSEQ (\d+)\]/.exec(selected.untagged.find((l) => /HIGHESTMODSEQ/.test(l))!)![1],
    );
    await b.run("EXAMINE Box");
    // A STORE before CONDSTORE is enabled carries no MODSEQ.
    expect((await a.run("STORE 1 +FLAGS (\\Answered)")).untagged).toEqual(["* 1 FETCH (FLAGS (\\Answered))"]);
    // FETCH MODSEQ enables it: the first such command reports HIGHESTMODSEQ.
    const fetched = await a.run("FETCH 1 (MODSEQ)");
    expect(fetched.untagged[0]).toMatch(/^\* OK \[HIGHESTMODSEQ \d+\]/);
    const modseq = (line: string) => Number(/MODSEQ \((\d+)\)/.exec(line)![1]);
    const first = modseq(fetched.untagged[1]!);
    expect(first).toBeGreaterThan(highest);
    const stored = (await a.run("STORE 1 +FLAGS (\\Flagged)")).untagged;
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatch(/^\* 1 FETCH \(FLAGS \(\\Answered \\Flagged\) MODSEQ \(\d+\)\)$/);
    expect(modseq(stored[0]!)).toBeGreaterThan(first);
    const uidStored = (await a.run(`UID STORE ${uid} -FLAGS (\\Answered)`)).untagged;
    expect(uidStored[0]).toMatch(
      new RegExp(`^\\* 1 FETCH \\(UID ${uid} FLAGS \\(\\\\Flagged\\) MODSEQ \\(\\d+\\)\\)$`),
    );
    // Another session's change, heard at NOOP.
    await b.run("SELECT Box");
    await b.run("STORE 1 +FLAGS.SILENT (\\Seen)");
    const heard = (await a.run("NOOP")).untagged;
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatch(
      new RegExp(`^\\* 1 FETCH \\(UID ${uid} FLAGS \\(\\\\Flagged \\\\Seen\\) MODSEQ \\(\\d+\\)\\)$`),
    );
    // SEARCH MODSEQ enables it too, in a session that had not.
    const searched = (await b.run("SEARCH MODSEQ 1")).untagged;
    expect(searched[0]).toMatch(/^\* OK \[HIGHESTMODSEQ \d+\]/);
    expect(searched[1]).toMatch(/^\* SEARCH 1 \(MODSEQ \d+\)$/);
    expect((await b.run("STORE 1 -FLAGS (\\Seen)")).untagged[0]).toMatch(
      /^\* 1 FETCH \(FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/,
    );
    for (const s of [a, b]) await s.close();
  });
});

describe(`smaller cases on ${runtime()}`, () => {
  test("a mailbox name that is not valid modified UTF-7 gets NO; before login, BAD as any command", async () => {
    const s = await open("misc@example.test");
    expect((await s.run("SELECT bad&Jjo")).done).toMatch(/^NO \[CANNOT\] /);
    expect((await s.run('CREATE "&A-"')).done).toMatch(/^NO \[CANNOT\] /);
    expect((await s.run("SELECT INBOX")).done).toMatch(/^OK/);
    await s.close();
  });

  test("MOVE into the selected mailbox: the original's EXPUNGE, then EXISTS; SEARCH FROM finds an address written with a comment", async () => {
    const s = await open("misc@example.test");
    await s.run("ENABLE IMAP4rev2");
    expect((await s.run("CREATE Same")).done).toMatch(/^OK/);
    expect((await s.runLiteral("APPEND Same", "From: joe(the boss)@example.com\r\nSubject: a\r\n\r\nx\r\n")).done)
      .toMatch(/^OK/);
    expect((await s.runLiteral("APPEND Same", "From: ann@example.org\r\nSubject: b\r\n\r\nx\r\n")).done)
      .toMatch(/^OK/);
    expect((await s.run("SELECT Same")).done).toMatch(/^OK/);
    expect((await s.run("SEARCH FROM joe@example.com")).untagged).toEqual(["* SEARCH 1"]);
    const moved = await s.run("MOVE 1 Same");
    expect(moved.untagged).toHaveLength(3);
    expect(moved.untagged[0]).toMatch(/^\* OK \[COPYUID \d+ 1 3\]/);
    expect(moved.untagged.slice(1)).toEqual(["* 1 EXPUNGE", "* 2 EXISTS"]);
    expect((await s.run("FETCH 1:2 (UID)")).untagged).toEqual(["* 1 FETCH (UID 2)", "* 2 FETCH (UID 3)"]);
    await s.close();
  });
});

describe(`SORT, THREAD, ESORT, SEARCHRES on ${runtime()}`, () => {
  test("SORT and UID SORT by subject, date and size; ESORT RETURN; THREAD REFERENCES and ORDEREDSUBJECT (RFC 5256, RFC 5267)", async () => {
    const s = await open("sort@example.test");
    await s.run("ENABLE IMAP4rev2");
    expect((await s.run("CAPABILITY")).untagged[0]).toMatch(/ SORT .*ESORT .*THREAD=REFERENCES/);
    await s.run("CREATE Lists");
    const mails = [
      ["<a@x>", "", "Tue, 1 Dec 2026 10:00:00 +0000", "Plans"],
      ["<b@x>", "<a@x>", "Tue, 1 Dec 2026 12:00:00 +0000", "Re: Plans"],
      ["<c@x>", "", "Tue, 1 Dec 2026 09:00:00 +0000", "[team] Budget"],
      ["<d@x>", "<a@x> <b@x>", "Tue, 1 Dec 2026 11:00:00 +0000", "Re: Re: Plans"],
      ["<e@x>", "", "Tue, 1 Dec 2026 13:00:00 +0000", "Fwd: budget"],
    ];
    for (const [id, refs, date, subject] of mails) {
      const body = `Message-ID: ${id}\r\n${refs ? `References: ${refs}\r\n` : ""}Date: ${date}\r\nSubject: ${subject}` +
        `\r\n\r\n${"x".repeat(id!.charCodeAt(1))}\r\n`;
      expect((await s.runLiteral("APPEND Lists", body)).done).toMatch(/^OK/);
    }
    expect((await s.run("SELECT Lists")).done).toMatch(/^OK/);
    expect((await s.run("SORT (SUBJECT DATE) UTF-8 ALL")).untagged).toEqual(["* SORT 3 5 1 4 2"]);
    expect((await s.run("SORT (REVERSE DATE) UTF-8 ALL")).untagged).toEqual(["* SORT 5 2 4 1 3"]);
    expect((await s.run("SORT (SIZE) US-ASCII NOT SUBJECT budget")).untagged).toEqual(["* SORT 1 2 4"]);
    const uids = (await s.run("UID SEARCH ALL")).untagged[0]!.split(" ").slice(2).map(Number);
    expect((await s.run("UID SORT (DATE) UTF-8 ALL")).untagged).toEqual([
      `* SORT ${[3, 1, 4, 2, 5].map((n) => uids[n - 1]).join(" ")}`,
    ]);
    // ESORT: MIN and MAX in sort order, ALL as an ordered set.
    const esort = (await s.run("SORT RETURN (MIN MAX COUNT ALL) (DATE) UTF-8 ALL")).untagged;
    expect(esort[0]).toMatch(/^\* ESEARCH \(TAG "t\d+"\) MIN 3 MAX 5 ALL 3,1,4,2,5 COUNT 5$/);
    expect((await s.run("SORT (DATE) KOI8-R ALL")).done).toMatch(/^NO \[BADCHARSET/);
    expect((await s.run("THREAD REFERENCES UTF-8 ALL")).untagged).toEqual(["* THREAD (3 5)(1 2 4)"]);
    expect((await s.run("THREAD ORDEREDSUBJECT UTF-8 ALL")).untagged).toEqual(["* THREAD (3 5)(1 (4)(2))"]);
    expect((await s.run("THREAD REFERENCES UTF-8 SUBJECT nothing-matches")).untagged).toEqual(["* THREAD"]);
    // SEARCHRES: SAVE with MIN keeps only the minimum (RFC 5182 §2.1); "$" then names it.
    expect((await s.run("SEARCH RETURN (SAVE MIN) SUBJECT plans")).untagged).toEqual([
      expect.stringMatching(/^\* ESEARCH \(TAG "t\d+"\) MIN 1$/),
    ]);
    expect((await s.run("FETCH $ (UID)")).untagged).toEqual([`* 1 FETCH (UID ${uids[0]})`]);
    await s.close();
  });
});

describe(`MULTIAPPEND on ${runtime()}`, () => {
  test("several messages in one APPEND, APPENDUID with their UIDs; one bad message stores none (RFC 3502)", async () => {
    const s = await open("sort@example.test");
    expect((await s.run("CAPABILITY")).untagged[0]).toContain(" MULTIAPPEND");
    await s.run("CREATE Multi");
    const one = "Subject: one\r\n\r\n1\r\n";
    const two = "Subject: two\r\n\r\n2\r\n";
    await s.raw.line(`m1 APPEND Multi (\\Seen) {${one.length}+}`);
    await s.raw.send(`${one} (\\Flagged) "05-Feb-2024 10:30:00 +0100" {${two.length}+}\r\n${two}\r\n`);
    const done = await s.raw.readUntil((l) => l.startsWith("m1 "));
    expect(done.at(-1)).toMatch(/^m1 OK \[APPENDUID \d+ 1:2\] /);
    await s.raw.line(`m2 APPEND Multi {${one.length}+}`);
    await s.raw.send(`${one} {0+}\r\n\r\n`);
    expect((await s.raw.readUntil((l) => l.startsWith("m2 "))).at(-1)).toMatch(/^m2 NO /);
    expect((await s.run("STATUS Multi (MESSAGES)")).untagged).toEqual(['* STATUS "Multi" (MESSAGES 2)']);
    await s.run("EXAMINE Multi");
    expect((await s.run("FETCH 1:2 (FLAGS INTERNALDATE)")).untagged).toEqual([
      expect.stringMatching(/^\* 1 FETCH \(FLAGS \(\\Seen( \\Recent)?\) INTERNALDATE "/),
      expect.stringMatching(
        /^\* 2 FETCH \(FLAGS \(\\Flagged( \\Recent)?\) INTERNALDATE "05-Feb-2024 09:30:00 \+0000"\)$/,
      ),
    ]);
    await s.close();
  });
});

describe(`WITHIN on ${runtime()}`, () => {
  test("SEARCH OLDER and YOUNGER by the internal date (RFC 5032)", async () => {
    const s = await open("misc@example.test");
    expect((await s.run("CAPABILITY")).untagged[0]).toContain(" WITHIN");
    await s.run("CREATE Within");
    await s.runLiteral('APPEND Within "01-Jan-2020 00:00:00 +0000"', "Subject: old\r\n\r\nx\r\n");
    await s.runLiteral("APPEND Within", "Subject: new\r\n\r\nx\r\n");
    await s.run("EXAMINE Within");
    expect((await s.run("SEARCH YOUNGER 3600")).untagged).toEqual(["* SEARCH 2"]);
    expect((await s.run("SEARCH OLDER 3600")).untagged).toEqual(["* SEARCH 1"]);
    expect((await s.run("SEARCH OLDER 0")).done).toMatch(/^BAD /);
    await s.close();
  });
});

describe(`UTF8=ACCEPT on ${runtime()}`, () => {
  test("UTF-8 mailbox names and strings once enabled, modified UTF-7 otherwise; APPEND UTF8 (~{n}) (RFC 6855)", async () => {
    const s = await open("misc@example.test");
    expect((await s.run("ENABLE UTF8=ACCEPT")).untagged).toEqual(["* ENABLED UTF8=ACCEPT"]);
    expect((await s.run('CREATE "Grüße"')).done).toMatch(/^OK/);
    // The test client reads bytes as Latin-1: decode lines back to UTF-8 to compare.
    const utf8 = (line: string) => new TextDecoder().decode(Uint8Array.from(line, (ch) => ch.charCodeAt(0)));
    expect((await s.run('LIST "" "Gr*"')).untagged.map(utf8)).toEqual(['* LIST (\\HasNoChildren) "/" "Grüße"']);
    const message = "Subject: Übersicht\r\nFrom: Zoë <zoe@example.test>\r\n\r\nhallo\r\n";
    const bytes = new TextEncoder().encode(message).length;
    await s.raw.line(`u1 APPEND "Grüße" UTF8 (~{${bytes}+}`);
    await s.raw.send(`${message})\r\n`);
    expect((await s.raw.readUntil((l) => l.startsWith("u1 "))).at(-1)).toMatch(/^u1 OK \[APPENDUID/);
    await s.run('EXAMINE "Grüße"');
    const fetched = (await s.run("FETCH 1 (ENVELOPE)")).untagged[0]!;
    expect(utf8(fetched)).toContain('"Übersicht" (("Zoë" NIL "zoe" "example.test"))');
    const other = await open("misc@example.test");
    expect((await other.run('LIST "" "Gr*"')).untagged).toEqual(['* LIST (\\HasNoChildren) "/" "Gr&APwA3w-e"']);
    for (const c of [s, other]) await c.close();
  });
});

describe(`OBJECTID and PREVIEW on ${runtime()}`, () => {
  test("MAILBOXID, EMAILID and THREADID are the JMAP ids; SEARCH EMAILID/THREADID; FETCH PREVIEW (RFC 8474, RFC 8970)", async () => {
    const s = await open("misc@example.test");
    const caps = (await s.run("CAPABILITY")).untagged[0]!;
    expect(caps).toContain(" OBJECTID");
    expect(caps).toContain(" PREVIEW");
    const created = await s.run("CREATE Objects");
    const mailboxId = /^OK \[MAILBOXID \(([\w-]+)\)\]/.exec(created.done)![1]!;
    await s.runLiteral("APPEND Objects", "Message-ID: <o1@x>\r\nSubject: first\r\n\r\nThe preview text of one.\r\n");
    await s.runLiteral(
      "APPEND Objects",
      "Message-ID: <o2@x>\r\nReferences: <o1@x>\r\nSubject: Re: first\r\n\r\ntwo\r\n",
    );
    await s.runLiteral("APPEND Objects", "Subject: other\r\n\r\nthree\r\n");
    const selected = await s.run("EXAMINE Objects");
    expect(selected.untagged).toContain(`* OK [MAILBOXID (${mailboxId})] Ok`);
    expect((await s.run("STATUS Objects (MAILBOXID MESSAGES)")).untagged).toEqual([
      `* STATUS "Objects" (MAILBOXID (${mailboxId}) MESSAGES 3)`,
    ]);
    const lines = (await s.run("FETCH 1:3 (EMAILID THREADID)")).untagged;
    const ids = lines.map((l) => /EMAILID \(([\w-]+)\) THREADID \(([\w-]+)\)/.exec(l)!.slice(1));
    expect(ids[0]![1]).toBe(ids[1]![1]);
    expect(ids[2]![1]).not.toBe(ids[0]![1]);
    expect((await s.run(`SEARCH THREADID ${ids[0]![1]}`)).untagged).toEqual(["* SEARCH 1 2"]);
    expect((await s.run(`SEARCH EMAILID ${ids[2]![0]}`)).untagged).toEqual(["* SEARCH 3"]);
    expect((await s.run("FETCH 1 (PREVIEW (LAZY))")).untagged).toEqual([
      '* 1 FETCH (PREVIEW "The preview text of one.")',
    ]);
    // The same ids over JMAP.
    const jmap = await jmapSession(mail, "misc@example.test", "misc@example.test-password");
    const got = await jmap.call("Email/get", { ids: ids.map((i) => i[0]), properties: ["threadId", "mailboxIds"] });
    const list = got.list as Array<{ id: string; threadId: string; mailboxIds: Record<string, boolean> }>;
    expect(list.map((e) => [e.id, e.threadId])).toEqual(ids);
    expect(Object.keys(list[0]!.mailboxIds)).toEqual([mailboxId]);
    await s.close();
  });
});

describe(`SAVEDATE on ${runtime()}`, () => {
  test("FETCH SAVEDATE is when the message came into this mailbox, not its internal date; SEARCH SAVED* (RFC 8514)", async () => {
    const s = await open("misc@example.test");
    expect((await s.run("CAPABILITY")).untagged[0]).toContain(" SAVEDATE");
    await s.run("CREATE Saved");
    await s.runLiteral('APPEND Saved "01-Jan-2020 00:00:00 +0000"', "Subject: s\r\n\r\nx\r\n");
    await s.run("EXAMINE Saved");
    const line = (await s.run("FETCH 1 (INTERNALDATE SAVEDATE)")).untagged[0]!;
    expect(line).toMatch(/INTERNALDATE "01-Jan-2020 00:00:00 \+0000" SAVEDATE "\d\d-\w{3}-20\d\d /);
    const saved = /SAVEDATE "(\d\d)-(\w{3})-(\d{4})/.exec(line)!;
    const today = `${Number(saved[1])}-${saved[2]}-${saved[3]}`;
    expect(Math.abs(Date.parse(`${saved[2]} ${saved[1]}, ${saved[3]} UTC`) - Date.now())).toBeLessThan(2 * 86_400_000);
    expect((await s.run(`SEARCH SAVEDON ${today}`)).untagged).toEqual(["* SEARCH 1"]);
    expect((await s.run("SEARCH SAVEDBEFORE 1-Jan-2021")).untagged).toEqual(["* SEARCH"]);
    expect((await s.run("SEARCH BEFORE 1-Jan-2021 SAVEDSINCE 1-Jan-2021")).untagged).toEqual(["* SEARCH 1"]);
    expect((await s.run("SEARCH SAVEDATESUPPORTED")).untagged).toEqual(["* SEARCH 1"]);
    await s.close();
  });
});
