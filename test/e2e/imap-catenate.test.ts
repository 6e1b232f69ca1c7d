/**
 * CATENATE (RFC 4469) and the MULTIAPPEND size bound against `postern serve` with `limits.messageSize` at 64 KiB:
 * a draft put together from TEXT literals and URLs of stored parts (the RFC's §4 example, with synchronising
 * literals), BADURL for another account's message, TOOBIG for a result over the limit; a MULTIAPPEND of twenty
 * 60 KiB messages is taken although together they are far over one message's size, while a literal over the limit
 * and a MULTIAPPEND over ten messages' worth are refused and the session stays in sync.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { imapScript } from "../helpers/imap-script.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const LIMIT = 64 * 1024;
let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["imaps"],
    users: { "cat@example.test": "cat-password", "other@example.test": "other-password" },
    config: { limits: { messageSize: LIMIT } },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const DRAFT = 'Subject: draft\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
  "--b\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n" +
  `${"A".repeat(40_000)}\r\n--b--\r\n`;

describe(`IMAP CATENATE and MULTIAPPEND sizes on ${runtime()}`, () => {
  test("a draft made of TEXT literals and URLs to stored parts; BADURL; TOOBIG", async () => {
    const port = mail.server.ports.imaps!;
    const imap = await imapScript(port, "cat@example.test", "cat-password");
    expect((await imap.run("CAPABILITY")).untagged[0]).toMatch(/ MULTIAPPEND CATENATE /);
    await imap.run("CREATE Drafts");
    const stored = await imap.runLiteral("APPEND Drafts (\\Draft)", DRAFT);
    const validity = /APPENDUID (\d+) 1\]/.exec(stored.done)![1];
    const base = `/Drafts;UIDVALIDITY=${validity}/;UID=1`;
    // RFC 4469 §4: synchronising TEXT literals between URLs; the server's go-ahead for each.
    const raw = imap.raw;
    const head = "--b\r\n";
    await raw.line(`c1 APPEND Drafts (\\Seen \\Draft) CATENATE (URL "${base}/;section=HEADER" TEXT {${head.length}}`);
    expect(await raw.readLine()).toMatch(/^\+ /);
    const middle = "\r\n--b\r\n";
    await raw.send(`${head} URL "${base}/;section=1.MIME" URL "${base}/;section=1" TEXT {${middle.length}}\r\n`);
    expect(await raw.readLine()).toMatch(/^\+ /);
    const tail = "\r\n--b--\r\n";
    await raw.send(`${middle} URL "${base}/;section=2.MIME" URL "${base}/;section=2" TEXT {${tail.length}}\r\n`);
    expect(await raw.readLine()).toMatch(/^\+ /);
    await raw.send(`${tail})\r\n`);
    expect(await raw.readUntil((l) => l.startsWith("c1 "))).toEqual([
      `c1 OK [APPENDUID ${validity} 2] APPEND completed`,
    ]);
    // Cut from the draft and put back together part by part, it is the draft again.
    await imap.run("SELECT Drafts");
    const fetched = await imap.run("UID FETCH 2 (BODY.PEEK[])");
    expect(fetched.untagged.join("\r\n")).toBe(`* 2 FETCH (BODY[] {${DRAFT.length}}\r\n${DRAFT} UID 2)`);

    // Another account's message is not this session's to read.
    const other = await imapScript(port, "other@example.test", "other-password");
    const theirs = await other.runLiteral("APPEND INBOX", "Subject: theirs\r\n\r\nsecret\r\n");
    const theirValidity = /APPENDUID (\d+) /.exec(theirs.done)![1];
    await other.close();
    const url = `imap://other%40example.test@localhost/INBOX;UIDVALIDITY=${theirValidity}/;UID=1`;
    expect((await imap.run(`APPEND Drafts CATENATE (URL "${url}")`)).done).toBe(
      `NO [BADURL "${url}"] The URL names no message of this account`,
    );
    // The draft twice is over the 64 KiB limit.
    expect((await imap.run(`APPEND Drafts CATENATE (URL "${base}" URL "${base}")`)).done).toBe(
      "NO [TOOBIG] The message would be too large",
    );
    expect((await imap.run("STATUS Drafts (MESSAGES)")).untagged).toEqual(['* STATUS "Drafts" (MESSAGES 2)']);
    await imap.close();
  });

  test("MULTIAPPEND: each literal up to the message size, together up to ten times that", async () => {
    const imap = await imapScript(mail.server.ports.imaps!, "cat@example.test", "cat-password");
    await imap.run("CREATE Bulk");
    const message = (n: number) => `Subject: bulk ${String(n).padStart(2, "0")}\r\n\r\n${"m".repeat(60 * 1024)}\r\n`;
    const size = message(1).length;
    const many = (count: number) =>
      Array.from({ length: count }, (_, i) => `{${size}+}\r\n${message(i)}`).join(" ").slice(`{${size}+}\r\n`.length);
    // Twenty messages of 60 KiB, 1.2 MB in one command: over the old bound (one message plus 1 MB), within the
    // new one (ten messages plus 1 MB), stored in one transaction.
    await imap.raw.line(`m1 APPEND Bulk {${size}+}`);
    await imap.raw.send(`${many(20)}\r\n`);
    expect((await imap.raw.readUntil((l) => l.startsWith("m1 "))).at(-1)).toMatch(/^m1 OK \[APPENDUID \d+ 1:20\] /);
    // Twenty-eight (1.7 MB) go over it: NO [TOOBIG] at the literal that crosses, the rest skipped, none stored.
    await imap.raw.line(`m3 APPEND Bulk {${size}+}`);
    await imap.raw.send(`${many(28)}\r\n`);
    expect((await imap.raw.readUntil((l) => l.startsWith("m3 "))).at(-1)).toBe("m3 NO [TOOBIG] Literal too large");
    expect((await imap.run("NOOP")).done).toBe("OK NOOP completed");
    // One literal over the message size: NO [TOOBIG], the session in sync.
    await imap.raw.line(`m2 APPEND Bulk {${LIMIT + 1}+}`);
    await imap.raw.send(`${"x".repeat(LIMIT + 1)}\r\n`);
    expect((await imap.raw.readUntil((l) => l.startsWith("m2 "))).at(-1)).toBe("m2 NO [TOOBIG] Literal too large");
    expect((await imap.run("NOOP")).done).toBe("OK NOOP completed");
    expect((await imap.run("STATUS Bulk (MESSAGES)")).untagged).toEqual(['* STATUS "Bulk" (MESSAGES 20)']);
    await imap.close();
  });
});
