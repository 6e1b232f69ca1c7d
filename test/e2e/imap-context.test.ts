/**
 * CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4) against `postern serve`: a search with RETURN (UPDATE) hears
 * another session's appends, flag changes and expunges as ESEARCH ADDTO / REMOVEFROM (during IDLE too), in the
 * order the RFC asks (ADDTO after EXISTS, REMOVEFROM before EXPUNGE), until CANCELUPDATE; PARTIAL windows.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { imapScript } from "../helpers/imap-script.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({ waitFor: ["imaps"], users: { "ctx@example.test": "ctx-password" } });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const message = (subject: string) => `Subject: ${subject}\r\n\r\nbody\r\n`;

describe(`IMAP CONTEXT=SEARCH / CONTEXT=SORT on ${runtime()}`, () => {
  test("UPDATE contexts follow another session's changes; CANCELUPDATE stops them; PARTIAL", async () => {
    const port = mail.server.ports.imaps!;
    const a = await imapScript(port, "ctx@example.test", "ctx-password");
    const b = await imapScript(port, "ctx@example.test", "ctx-password");
    expect((await a.run("CAPABILITY")).untagged[0]).toMatch(/ CONTEXT=SEARCH CONTEXT=SORT /);
    await a.run("CREATE Ctx");
    for (const subject of ["c", "a", "b"]) await b.runLiteral("APPEND Ctx (\\Seen)", message(subject));
    await a.run("ENABLE IMAP4rev2");
    await a.run("SELECT Ctx");

    await a.raw.line("B01 UID SEARCH RETURN (UPDATE) UNSEEN");
    expect(await a.raw.readUntil((l) => l.startsWith("B01 "))).toEqual([
      '* ESEARCH (TAG "B01") UID',
      "B01 OK SEARCH completed",
    ]);
    await a.raw.line("C01 UID SORT RETURN (UPDATE) (SUBJECT) UTF-8 ALL");
    expect(await a.raw.readUntil((l) => l.startsWith("C01 "))).toEqual([
      '* ESEARCH (TAG "C01") UID ALL 2:3,1',
      "C01 OK SORT completed",
    ]);

    // An unseen append, heard in IDLE: EXISTS, then the additions (§4.3.3).
    await a.raw.line("I1 IDLE");
    expect(await a.raw.readLine()).toMatch(/^\+ /);
    await b.runLiteral("APPEND Ctx", message("ab"));
    expect(await a.raw.readUntil((l) => l.startsWith('* ESEARCH (TAG "C01")'))).toEqual([
      "* 4 EXISTS",
      '* ESEARCH (TAG "B01") UID ADDTO (0 4)',
      '* ESEARCH (TAG "C01") UID ADDTO (2 4)',
    ]);
    await a.raw.line("DONE");
    expect(await a.raw.readUntil((l) => l.startsWith("I1 "))).toEqual(["I1 OK IDLE terminated"]);

    // Seen elsewhere: the FETCH, then REMOVEFROM; expunged elsewhere: REMOVEFROM before EXPUNGE (§4.3.4).
    await b.run("SELECT Ctx");
    await b.run("UID STORE 4 +FLAGS (\\Seen)");
    expect((await a.run("NOOP")).untagged).toEqual([
      "* 4 FETCH (UID 4 FLAGS (\\Seen))",
      '* ESEARCH (TAG "B01") UID REMOVEFROM (0 4)',
    ]);
    await b.run("UID STORE 2 +FLAGS (\\Deleted)");
    await b.run("EXPUNGE");
    expect((await a.run("NOOP")).untagged).toEqual([
      '* ESEARCH (TAG "C01") UID REMOVEFROM (1 2)',
      "* 2 EXPUNGE",
    ]);

    // PARTIAL (§4.4): a window of the sorted result; none there is NIL.
    expect((await a.run("UID SORT RETURN (PARTIAL 1:2) (SUBJECT) UTF-8 ALL")).untagged[0]).toMatch(
      / UID PARTIAL \(1:2 4,3\)$/,
    );
    expect((await a.run("SEARCH RETURN (PARTIAL 10:20) ALL")).untagged[0]).toMatch(/ PARTIAL \(10:20 NIL\)$/);

    // CANCELUPDATE (§4.3.5): no more updates for those tags.
    await a.raw.line('X1 CANCELUPDATE "B01" "C01"');
    expect(await a.raw.readUntil((l) => l.startsWith("X1 "))).toEqual(["X1 OK CANCELUPDATE completed"]);
    await b.runLiteral("APPEND Ctx", message("aa"));
    expect((await a.run("NOOP")).untagged).toEqual(["* 4 EXISTS"]);
    await a.close();
    await b.close();
  });
});
