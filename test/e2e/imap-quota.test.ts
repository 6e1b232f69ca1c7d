/**
 * IMAP QUOTA (RFC 9208) against `postern serve`: the account's quota (`user add --quota`) is the
 * one root "", STORAGE in units of 1024 octets, and a MULTIAPPEND or COPY that would go over stores none.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { imapScript } from "../helpers/imap-script.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const QUOTA = 20 * 1024;
let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["imaps"],
    users: { "free@example.test": "free-password" },
    setup: [["user", "add", "capped@example.test", "--password", "capped-password", "--quota", String(QUOTA)]],
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

describe(`IMAP QUOTA on ${runtime()}`, () => {
  test("GETQUOTAROOT and GETQUOTA report the account's quota; an account without one has no root", async () => {
    const capped = await imapScript(mail.server.ports.imaps!, "capped@example.test", "capped-password");
    expect((await capped.run("CAPABILITY")).untagged[0]).toMatch(/ QUOTA QUOTA=RES-STORAGE/);
    const body = `Subject: q\r\n\r\n${"x".repeat(5000)}\r\n`;
    expect((await capped.runLiteral("APPEND INBOX", body)).done).toMatch(/^OK/);
    const used = Math.ceil(body.length / 1024);
    expect((await capped.run("GETQUOTAROOT INBOX")).untagged).toEqual([
      '* QUOTAROOT "INBOX" ""',
      `* QUOTA "" (STORAGE ${used} 20)`,
    ]);
    expect((await capped.run('GETQUOTA ""')).untagged).toEqual([`* QUOTA "" (STORAGE ${used} 20)`]);
    // MULTIAPPEND over the quota: NO [OVERQUOTA], and neither message is stored.
    const chunk = `Subject: m\r\n\r\n${"y".repeat(8000)}\r\n`;
    await capped.raw.line(`m1 APPEND INBOX {${chunk.length}+}`);
    await capped.raw.send(`${chunk} {${chunk.length}+}\r\n${chunk}\r\n`);
    expect((await capped.raw.readUntil((l) => l.startsWith("m1 "))).at(-1)).toBe("m1 NO [OVERQUOTA] Quota exceeded");
    expect((await capped.run("STATUS INBOX (MESSAGES)")).untagged).toEqual(['* STATUS "INBOX" (MESSAGES 1)']);
    await capped.close();
    const free = await imapScript(mail.server.ports.imaps!, "free@example.test", "free-password");
    expect((await free.run("GETQUOTAROOT INBOX")).untagged).toEqual(['* QUOTAROOT "INBOX"']);
    expect((await free.run('GETQUOTA ""')).done).toMatch(/^NO \[NONEXISTENT\]/);
    await free.close();
  });

  test("COPY whose copies would go over the quota is NO [OVERQUOTA] and copies nothing (RFC 9208 §4.3); MOVE still works", async () => {
    await mail.server.cli(["user", "add", "copier@example.test", "--password", "copier-password", "--quota", "12000"]);
    const copier = await imapScript(mail.server.ports.imaps!, "copier@example.test", "copier-password");
    const body = `Subject: c\r\n\r\n${"z".repeat(7000)}\r\n`;
    expect((await copier.runLiteral("APPEND INBOX", body)).done).toMatch(/^OK/);
    expect((await copier.run("SELECT INBOX")).done).toMatch(/^OK/);
    expect((await copier.run("COPY 1 Archive")).done).toBe("NO [OVERQUOTA] The copies would exceed the quota");
    expect((await copier.run("STATUS Archive (MESSAGES)")).untagged).toEqual(['* STATUS "Archive" (MESSAGES 0)']);
    expect((await copier.run("MOVE 1 Archive")).done).toMatch(/^OK/);
    expect((await copier.run("STATUS Archive (MESSAGES)")).untagged).toEqual(['* STATUS "Archive" (MESSAGES 1)']);
    await copier.close();
  });
});
