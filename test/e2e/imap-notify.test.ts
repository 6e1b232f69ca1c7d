/**
 * NOTIFY (RFC 5465) against `postern serve`: a session that asked hears another session's changes without
 * sending a command — STATUS for INBOX (INBOXES), EXISTS with the requested FETCH, FETCH FLAGS and EXPUNGE for the
 * selected mailbox (SELECTED), LIST for created, renamed and deleted mailboxes (PERSONAL MailboxName) — and
 * nothing after NOTIFY NONE.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { imapScript } from "../helpers/imap-script.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({ waitFor: ["imaps"], users: { "note@example.test": "note-password" } });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const message = (subject: string) => `Subject: ${subject}\r\n\r\nbody\r\n`;

describe(`IMAP NOTIFY on ${runtime()}`, () => {
  test("changes arrive between commands, as asked; NOTIFY NONE stops them", async () => {
    const port = mail.server.ports.imaps!;
    const a = await imapScript(port, "note@example.test", "note-password");
    const b = await imapScript(port, "note@example.test", "note-password");
    expect((await a.run("CAPABILITY")).untagged[0]).toMatch(/ NOTIFY( |$)/);
    await b.run("CREATE Work");
    await b.runLiteral("APPEND INBOX", message("first"));
    await a.run("ENABLE IMAP4rev2");
    await a.run("SELECT Work");
    const set = await a.run(
      "NOTIFY SET STATUS (selected (MessageNew (UID FLAGS) MessageExpunge FlagChange)) " +
        "(inboxes (MessageNew MessageExpunge)) (personal (MailboxName))",
    );
    const inbox = /^\* STATUS "INBOX" \(MESSAGES 1 UIDNEXT (\d+) UIDVALIDITY \d+\)$/.exec(set.untagged[0] ?? "");
    expect(set.untagged, "the STATUS indicator").toHaveLength(1);
    expect(inbox).not.toBeNull();
    expect(set.done).toBe("OK NOTIFY completed");
    const next = Number(inbox![1]);

    // Session a sends nothing from here on: each change reaches it by itself.
    await b.runLiteral("APPEND INBOX", message("second"));
    expect(await a.raw.readLine()).toBe(`* STATUS "INBOX" (MESSAGES 2 UIDNEXT ${next + 1})`);
    await b.runLiteral("APPEND Work (\\Flagged)", message("work"));
    expect(await a.raw.readLine()).toBe("* 1 EXISTS");
    expect(await a.raw.readLine()).toBe("* 1 FETCH (UID 1 FLAGS (\\Flagged))");
    await b.run("SELECT Work");
    await b.run("STORE 1 +FLAGS (\\Seen)");
    expect(await a.raw.readLine()).toBe("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen))");
    await b.run("STORE 1 +FLAGS (\\Deleted)");
    expect(await a.raw.readLine()).toBe("* 1 FETCH (UID 1 FLAGS (\\Flagged \\Seen \\Deleted))");
    await b.run("EXPUNGE");
    expect(await a.raw.readLine()).toBe("* 1 EXPUNGE");
    await b.run("CREATE Later");
    expect(await a.raw.readLine()).toBe('* LIST () "/" "Later"');
    await b.run("RENAME Later Someday");
    expect(await a.raw.readLine()).toBe('* LIST () "/" "Someday" ("OLDNAME" ("Later"))');
    await b.run("DELETE Someday");
    expect(await a.raw.readLine()).toBe('* LIST (\\NonExistent) "/" "Someday"');

    // NOTIFY NONE (§3): nothing arrives between commands any more; NOOP still tells of the selected mailbox.
    expect((await a.run("NOTIFY NONE")).done).toBe("OK NOTIFY completed");
    await b.runLiteral("APPEND INBOX", message("third"));
    await b.runLiteral("APPEND Work", message("more"));
    await Bun.sleep(300);
    expect((await a.run("NOOP")).untagged).toEqual(["* 1 EXISTS"]);
    await a.close();
    await b.close();
  });
});
