/**
 * IMAP end to end with imapflow as the client, against `postern serve` on the runtime named by
 * POSTERN_TEST_RUNTIME; mail also arrives over SMTP while clients are connected.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;
const clients: ImapFlow[] = [];

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "imap", "imaps"],
    users: { "ivy@example.test": "ivy-password", "jon@example.test": "jon-password" },
  });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.logout()));
  await mail?.stop();
});

async function connect(
  user = "ivy@example.test",
  options: { secure?: boolean; qresync?: boolean } = {},
): Promise<ImapFlow> {
  const client = new ImapFlow({
    host: "127.0.0.1",
    port: options.secure ? mail.server.ports.imaps! : mail.server.ports.imap!,
    secure: options.secure ?? false,
    doSTARTTLS: options.secure ? undefined : true,
    auth: { user, pass: user.replace("@example.test", "-password") },
    tls: { rejectUnauthorized: false },
    logger: false,
    qresync: options.qresync,
  });
  client.on("error", () => {});
  await client.connect();
  clients.push(client);
  return client;
}

function sendSmtp(to: string, subject: string, body = "hello\r\n") {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({
      envelope: { from: "x@remote.test", to: [to] },
      raw: `From: Xavier <x@remote.test>\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${body}`,
    });
}

const MULTIPART =
  "From: Ivy <ivy@example.test>\r\nTo: jon@example.test\r\nSubject: multipart\r\nMessage-ID: <mp1@example.test>\r\n" +
  'MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n' +
  "Searchable words here\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n" +
  'Content-Disposition: attachment; filename="x.bin"\r\n\r\nAAECAw==\r\n--b1--\r\n';

describe(`IMAP on ${runtime()}`, () => {
  test("login over STARTTLS and over imaps; LIST shows special-use mailboxes", async () => {
    const plain = await connect();
    expect(plain.secureConnection || (plain as unknown as { _socket?: { encrypted?: boolean } })._socket).toBeTruthy();
    const boxes = await plain.list();
    const byPath = Object.fromEntries(boxes.map((b) => [b.path, b.specialUse ?? null]));
    expect(byPath).toMatchObject({
      INBOX: "\\Inbox",
      Sent: "\\Sent",
      Drafts: "\\Drafts",
      Trash: "\\Trash",
      Junk: "\\Junk",
      Archive: "\\Archive",
    });
    const secure = await connect("ivy@example.test", { secure: true });
    const status = await secure.status("INBOX", { messages: true });
    expect(status && status.messages).toBeGreaterThanOrEqual(0);
  });

  test("APPEND then FETCH every data item, with sections cut from the stored message", async () => {
    const client = await connect();
    const appended = await client.append("INBOX", MULTIPART, ["$Label"], new Date("2026-01-02T03:04:05Z"));
    expect(appended).toMatchObject({ destination: "INBOX" });
    expect(typeof (appended as { uid?: number }).uid).toBe("number");
    const lock = await client.getMailboxLock("INBOX");
    try {
      const uid = (appended as { uid: number }).uid;
      const msg = await client.fetchOne(String(uid), {
        uid: true,
        flags: true,
        envelope: true,
        bodyStructure: true,
        internalDate: true,
        size: true,
        source: true,
        headers: ["subject"],
        bodyParts: ["1", "2"],
      }, { uid: true });
      if (!msg) throw new Error("no message");
      expect(msg.flags).toEqual(new Set(["$Label"]));
      expect(msg.envelope?.subject).toBe("multipart");
      expect(msg.envelope?.from?.[0]).toMatchObject({ name: "Ivy", address: "ivy@example.test" });
      expect(msg.envelope?.messageId).toBe("<mp1@example.test>");
      expect((msg.internalDate as Date).toISOString()).toBe("2026-01-02T03:04:05.000Z");
      expect(msg.size).toBe(MULTIPART.length);
      expect(msg.source?.toString()).toBe(MULTIPART);
      expect(msg.headers?.toString()).toBe("Subject: multipart\r\n\r\n");
      expect(msg.bodyStructure?.childNodes?.map((n) => n.type)).toEqual(["text/plain", "application/octet-stream"]);
      expect(msg.bodyStructure?.childNodes?.[1]?.dispositionParameters).toEqual({ filename: "x.bin" });
      expect(msg.bodyParts?.get("1")?.toString()).toBe("Searchable words here");
      const binary = await client.download(String(uid), "2", { uid: true });
      const chunks: Buffer[] = [];
      for await (const c of binary.content!) chunks.push(c as Buffer);
      expect([...Buffer.concat(chunks)]).toEqual([0, 1, 2, 3]);
    } finally {
      lock.release();
    }
  });

  test("SEARCH by text, header and flags; STORE; a non-PEEK body fetch sets \\Seen", async () => {
    const client = await connect();
    await sendSmtp("ivy@example.test", "needle in a haystack", "the quick brown fox\r\n");
    const lock = await client.getMailboxLock("INBOX");
    try {
      const hits = await client.search({ body: "QUICK BROWN" }, { uid: true });
      expect(hits).toHaveLength(1);
      expect(await client.search({ subject: "needle" }, { uid: true })).toEqual(hits);
      const uid = (hits as number[])[0]!;
      expect(await client.search({ from: "xavier" }, { uid: true })).toContain(uid);
      expect(await client.search({ seen: false, uid: String(uid) }, { uid: true })).toEqual([uid]);
      // imapflow always PEEKs, so a plain BODY[TEXT] goes over a raw session.
      const raw = await LineClient.connect(mail.server.ports.imaps!, { tls: true });
      await raw.readLine();
      await raw.line('r1 LOGIN ivy@example.test "ivy-password"');
      await raw.readUntil((l) => l.startsWith("r1 "));
      await raw.line("r2 SELECT INBOX");
      await raw.readUntil((l) => l.startsWith("r2 "));
      await raw.line(`r3 UID FETCH ${uid} BODY[TEXT]`);
      const fetched = await raw.readUntil((l) => l.startsWith("r3 "));
      expect(fetched.join("\n")).toContain("the quick brown fox");
      expect(fetched.join("\n")).toMatch(/FLAGS \(\\Seen \\Recent\)/);
      raw.close();
      await client.noop();
      expect(await client.search({ seen: true, uid: String(uid) }, { uid: true })).toEqual([uid]);
      await client.messageFlagsAdd(String(uid), ["\\Flagged", "$Work"], { uid: true });
      await client.messageFlagsRemove(String(uid), ["$Work"], { uid: true });
      const after = await client.fetchOne(String(uid), { flags: true }, { uid: true });
      expect(after && [...after.flags!].sort()).toEqual(["\\Flagged", "\\Seen"]);
    } finally {
      lock.release();
    }
  });

  test("COPY and MOVE report COPYUID; EXPUNGE removes; UIDs ascend and are not reused", async () => {
    const client = await connect();
    await sendSmtp("ivy@example.test", "to be moved");
    await sendSmtp("ivy@example.test", "to be copied");
    const lock = await client.getMailboxLock("INBOX");
    try {
      const [moving] = (await client.search({ subject: "to be moved" }, { uid: true })) as number[];
      const [copying] = (await client.search({ subject: "to be copied" }, { uid: true })) as number[];
      const copied = await client.messageCopy(String(copying), "Archive", { uid: true });
      expect(copied && copied.uidMap?.size).toBe(1);
      const moved = await client.messageMove(String(moving), "Archive", { uid: true });
      expect(moved && moved.uidMap?.get(moving!)).toBeGreaterThan(
        copied && copied.uidMap ? [...copied.uidMap.values()][0]! : 0,
      );
      expect(await client.search({ subject: "to be moved" }, { uid: true })).toEqual([]);
      await client.messageDelete(String(copying), { uid: true });
      expect(await client.search({ subject: "to be copied" }, { uid: true })).toEqual([]);
    } finally {
      lock.release();
    }
    const archive = await client.status("Archive", { messages: true, uidNext: true });
    expect(archive && archive.messages).toBe(2);
    const appended = await client.append("INBOX", "Subject: after\r\n\r\nx\r\n");
    expect((appended as { uid: number }).uid).toBeGreaterThan(0);
    const inbox = await client.status("INBOX", { uidNext: true });
    expect(inbox && inbox.uidNext).toBe((appended as { uid: number }).uid + 1);
  });

  test("IDLE: a message delivered over SMTP during IDLE arrives as EXISTS", async () => {
    const client = await connect("jon@example.test");
    const lock = await client.getMailboxLock("INBOX");
    try {
      const before = (client.mailbox as { exists: number }).exists;
      const arrived = new Promise<number>((resolve) =>
        client.on("exists", (event: { count: number }) => resolve(event.count))
      );
      const idling = client.idle();
      await Bun.sleep(100);
      await sendSmtp("jon@example.test", "during idle");
      const count = await Promise.race([arrived, Bun.sleep(5000).then(() => -1)]);
      expect(count).toBe(before + 1);
      await client.noop();
      await idling.catch(() => {});
    } finally {
      lock.release();
    }
  });

  test("two sessions see each other's flag changes and expunges", async () => {
    const a = await connect("jon@example.test");
    const b = await connect("jon@example.test");
    await sendSmtp("jon@example.test", "shared");
    const lockA = await a.getMailboxLock("INBOX");
    const lockB = await b.getMailboxLock("INBOX");
    try {
      const [uid] = (await a.search({ subject: "shared" }, { uid: true })) as number[];
      const flagged = new Promise<string[]>((resolve) =>
        b.on("flags", (e: { flags: Set<string> }) => resolve([...e.flags]))
      );
      await a.messageFlagsAdd(String(uid), ["\\Answered"], { uid: true });
      await b.noop();
      expect(await Promise.race([flagged, Bun.sleep(3000).then(() => ["timeout"])])).toContain("\\Answered");
      const expunged = new Promise<boolean>((resolve) => b.on("expunge", () => resolve(true)));
      await a.messageDelete(String(uid), { uid: true });
      await b.noop();
      expect(await Promise.race([expunged, Bun.sleep(3000).then(() => false)])).toBe(true);
    } finally {
      lockA.release();
      lockB.release();
    }
  });

  test("CONDSTORE: FETCH CHANGEDSINCE returns only what changed after a MODSEQ", async () => {
    const client = await connect();
    const lock = await client.getMailboxLock("INBOX");
    try {
      const modseq = BigInt((client.mailbox as { highestModseq?: bigint }).highestModseq ?? 0n);
      expect(modseq).toBeGreaterThan(0n);
      const [uid] = (await client.search({ all: true }, { uid: true })) as number[];
      await client.messageFlagsAdd(String(uid), ["$Changed"], { uid: true });
      const changed: number[] = [];
      for await (const m of client.fetch("1:*", { uid: true, flags: true }, { uid: true, changedSince: modseq })) {
        changed.push(m.uid);
      }
      expect(changed).toEqual([uid!]);
    } finally {
      lock.release();
    }
  });

  test("QRESYNC: SELECT with a known MODSEQ reports what vanished and what changed meanwhile", async () => {
    const session = async () => {
      const raw = await LineClient.connect(mail.server.ports.imaps!, { tls: true });
      await raw.readLine();
      await raw.line('q1 LOGIN jon@example.test "jon-password"');
      await raw.readUntil((l) => l.startsWith("q1 "));
      await raw.line("q2 ENABLE QRESYNC");
      expect(await raw.readUntil((l) => l.startsWith("q2 "))).toContain("* ENABLED QRESYNC");
      return raw;
    };
    await sendSmtp("jon@example.test", "qresync one");
    await sendSmtp("jon@example.test", "qresync two");
    const first = await session();
    await first.line("q3 SELECT INBOX");
    const selected = await first.readUntil((l) => l.startsWith("q3 "));
    const uidValidity = Number(/UIDVALIDITY (\d+)/.exec(selected.join(" "))![1]);
    const modseq = Number(/HIGHESTMODSEQ (\d+)/.exec(selected.join(" "))![1]);
    await first.line('q4 UID SEARCH SUBJECT "qresync"');
    const [one, two] = /\* SEARCH (\d+) (\d+)/.exec((await first.readUntil((l) => l.startsWith("q4 "))).join(" "))!
      .slice(1).map(Number);
    await first.line("q5 LOGOUT");
    first.close();

    // Meanwhile, another client expunges one and flags the other.
    const other = await connect("jon@example.test");
    const lock = await other.getMailboxLock("INBOX");
    await other.messageDelete(String(one), { uid: true });
    await other.messageFlagsAdd(String(two), ["\\Flagged"], { uid: true });
    lock.release();

    const again = await session();
    await again.line(`q6 SELECT INBOX (QRESYNC (${uidValidity} ${modseq}))`);
    const resync = await again.readUntil((l) => l.startsWith("q6 "));
    expect(resync).toContain(`* VANISHED (EARLIER) ${one}`);
    expect(
      resync.some((l) =>
        new RegExp(`^\\* \\d+ FETCH \\(UID ${two} FLAGS \\(\\\\Flagged\\) MODSEQ \\(\\d+\\)\\)$`).test(l)
      ),
    ).toBe(true);
    await again.line(`q7 UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${modseq} VANISHED)`);
    const fetched = await again.readUntil((l) => l.startsWith("q7 "));
    expect(fetched).toContain(`* VANISHED (EARLIER) ${one}`);
    expect(fetched.at(-1)).toMatch(/^q7 OK/);
    again.close();
  });

  test("flag names are case-insensitive: \\deleted is \\Deleted (EXPUNGE removes it), $junk is $Junk (RFC 9051 §2.3.2)", async () => {
    const raw = await LineClient.connect(mail.server.ports.imaps!, { tls: true });
    const tagged = (tag: string) => raw.readUntil((l) => l.startsWith(`${tag} `));
    expect(await raw.readLine()).toMatch(/^\* OK /);
    await raw.line('f1 LOGIN "ivy@example.test" "ivy-password"');
    expect((await tagged("f1")).at(-1)).toMatch(/^f1 OK/);
    await raw.line("f2 CREATE Cases");
    expect((await tagged("f2")).at(-1)).toMatch(/^f2 OK/);
    for (const [tag, subject] of [["f3", "first"], ["f4", "second"]]) {
      const body = `Subject: ${subject}\r\n\r\nx\r\n`;
      await raw.line(`${tag} APPEND Cases (\\seen) {${body.length}+}`);
      await raw.send(`${body}\r\n`);
      expect((await tagged(tag!)).at(-1)).toMatch(new RegExp(`^${tag} OK`));
    }
    await raw.line("f5 SELECT Cases");
    expect((await tagged("f5")).at(-1)).toMatch(/^f5 OK/);
    await raw.line("f6 FETCH 1:2 (FLAGS)");
    expect((await tagged("f6")).filter((l) => l.startsWith("* "))).toEqual([
      "* 1 FETCH (FLAGS (\\Seen \\Recent))",
      "* 2 FETCH (FLAGS (\\Seen \\Recent))",
    ]);
    await raw.line("f7 STORE 1 +FLAGS.SILENT (\\deleted $Junk)");
    expect((await tagged("f7")).at(-1)).toMatch(/^f7 OK/);
    await raw.line("f8 STORE 1 +FLAGS.SILENT (\\DELETED $junk)");
    expect((await tagged("f8")).at(-1)).toMatch(/^f8 OK/);
    await raw.line("f9 FETCH 1 (FLAGS)");
    expect((await tagged("f9")).filter((l) => l.startsWith("* "))).toEqual([
      "* 1 FETCH (FLAGS (\\Seen \\Deleted $Junk \\Recent))",
    ]);
    await raw.line("f10 STORE 1 -FLAGS.SILENT ($JUNK)");
    expect((await tagged("f10")).at(-1)).toMatch(/^f10 OK/);
    await raw.line("f11 SEARCH DELETED");
    expect((await tagged("f11")).filter((l) => l.startsWith("* SEARCH"))).toEqual(["* SEARCH 1"]);
    await raw.line("f12 EXPUNGE");
    const expunged = await tagged("f12");
    expect(expunged.filter((l) => l.startsWith("* "))).toEqual(["* 1 EXPUNGE"]);
    await raw.line("f13 FETCH 1 (FLAGS)");
    expect((await tagged("f13")).filter((l) => l.startsWith("* "))).toEqual(["* 1 FETCH (FLAGS (\\Seen \\Recent))"]);
    await raw.line("f14 LOGOUT");
    await tagged("f14");
    raw.close();
  });

  test("a keyword new to the mailbox is announced with * FLAGS before the FETCH that shows it, in this session and others (RFC 9051 §7.3.5)", async () => {
    const open = async (tag: string) => {
      const raw = await LineClient.connect(mail.server.ports.imaps!, { tls: true });
      const tagged = (t: string) => raw.readUntil((l) => l.startsWith(`${t} `));
      await raw.readLine();
      await raw.line(`${tag}1 LOGIN "ivy@example.test" "ivy-password"`);
      await tagged(`${tag}1`);
      return { raw, tagged };
    };
    const a = await open("a");
    const b = await open("b");
    await a.raw.line("a2 CREATE Keywords");
    await a.tagged("a2");
    const body = "Subject: k\r\n\r\nx\r\n";
    await a.raw.line(`a3 APPEND Keywords () {${body.length}+}`);
    await a.raw.send(`${body}\r\n`);
    await a.tagged("a3");
    await a.raw.line("a4 SELECT Keywords");
    expect((await a.tagged("a4")).find((l) => l.startsWith("* FLAGS"))).toBe(
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
    );
    // This session's own STORE of a new keyword.
    await a.raw.line("a5 STORE 1 +FLAGS ($Mine)");
    expect((await a.tagged("a5")).filter((l) => l.startsWith("* "))).toEqual([
      "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Mine)",
      "* 1 FETCH (FLAGS ($Mine \\Recent))",
    ]);
    // Another session's.
    await b.raw.line("b2 SELECT Keywords");
    await b.tagged("b2");
    await b.raw.line("b3 STORE 1 +FLAGS.SILENT ($Theirs)");
    await b.tagged("b3");
    await a.raw.line("a6 NOOP");
    const seen = (await a.tagged("a6")).filter((l) => l.startsWith("* "));
    expect(seen[0]).toBe("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft $Mine $Theirs)");
    expect(seen[1]).toMatch(/^\* 1 FETCH \(UID \d+ FLAGS \(\$Mine \$Theirs \\Recent\)\)$/);
    for (const [c, t] of [[a, "a7"], [b, "b4"]] as const) {
      await c.raw.line(`${t} LOGOUT`);
      await c.tagged(t);
      c.raw.close();
    }
  });

  test("bad input gets BAD or NO and the session stays in sync", async () => {
    const raw = await LineClient.connect(mail.server.ports.imaps!, { tls: true });
    expect(await raw.readLine()).toMatch(/^\* OK \[CAPABILITY /);
    await raw.line("a1 FROBNICATE");
    expect(await raw.readLine()).toMatch(/^a1 BAD /);
    await raw.line("a2 FETCH 1 (FLAGS)");
    expect(await raw.readLine()).toBe("a2 BAD FETCH needs LOGIN or AUTHENTICATE first");
    await raw.line("a3 LOGIN ivy@example.test {999999999}");
    expect(await raw.readLine()).toBe("a3 NO [TOOBIG] Literal too large");
    await raw.line('a4 LOGIN ivy@example.test "wrong"');
    expect(await raw.readLine()).toBe("a4 NO [AUTHENTICATIONFAILED] Authentication failed");
    await raw.line('a5 LOGIN "ivy@example.test" {12+}');
    await raw.send("ivy-password\r\n");
    expect(await raw.readLine()).toMatch(/^a5 OK /);
    await raw.line("a6 SELECT INBOX (");
    expect(await raw.readLine()).toMatch(/^a6 BAD /);
    await raw.line("a7 FETCH 99999 FLAGS");
    expect(await raw.readLine()).toMatch(/^a7 BAD /);
    await raw.line("a8 LOGOUT");
    expect(await raw.readLine()).toMatch(/^\* BYE/);
    expect(await raw.readLine()).toBe("a8 OK LOGOUT completed");
  });
});
