/**
 * Sieve at local delivery (issue 21), end to end on the runtime named by POSTERN_TEST_RUNTIME: a script stored with
 * `postern sieve put --activate` files mail by header (with flags, into a mailbox it creates) and by subaddress,
 * files one email into two mailboxes, discards, flags what it keeps, redirects (a copy, and a message it does not
 * keep) to a recording MX with an SRS sender and an ARC seal that verifies there, and rejects one sender at SMTP
 * time; a script removed from service leaves mail in INBOX. Another account's vacation script replies once per
 * sender, never to list mail. Checked over IMAP with imapflow.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { listen, type Listener } from "../../src/net/listener.ts";
import { nextHopVerdict, publishArcKey, publishDkimKey } from "../helpers/arc.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";

const SCRIPT = `require ["fileinto", "mailbox", "imap4flags", "envelope", "subaddress", "variables", "copy", "reject"];
if envelope :is "from" "pest@remote.test" {
  reject "No mail from you, thank you.";
} elsif header :contains "subject" "invoice" {
  fileinto :create :flags "\\\\Flagged" "Bills";
} elsif envelope :detail :matches "to" "*" {
  fileinto :create "Lists/\${1}";
} elsif header :is "subject" "drop me" {
  discard;
} elsif header :is "subject" "twice" {
  fileinto :create "Copies";
  fileinto "Archive";
} elsif header :is "subject" "for the boss" {
  redirect :copy "Boss@remote.test";
} elsif header :is "subject" "send away" {
  redirect "archive@remote.test";
} else {
  addflag "$Sieved";
}
`;

/** The remote MX: accepts everything and records it. */
const remote = new RecordingBackend();
let mx: Listener;
let mail: MailServer;
let imap: ImapFlow;

beforeAll(async () => {
  mx = await listen(await remoteMxOptions(remote));
  mail = await startMailServer({
    waitFor: ["smtp", "imap"],
    users: { "ivy@example.test": "ivy-password", "zed@example.test": "zed-password" },
    config: {
      delivery: { transport: { "remote.test": `127.0.0.1:${mx.address().port}` }, retryDelay: 1 },
      srs: { secret: "srs-secret-for-sieve-tests" },
    },
  });
  const file = `${mail.server.dir}/filter.sieve`;
  await Bun.write(file, SCRIPT);
  const put = await mail.server.cli(["sieve", "put", "ivy@example.test", "main", file, "--activate"]);
  expect(put.stderr).toBe("");
  expect(put.code).toBe(0);
  await Bun.write(
    `${mail.server.dir}/away.sieve`,
    'require "vacation";\nvacation :days 1 :subject "Away" "Back on Monday.";\n',
  );
  const away = await mail.server.cli([
    "sieve",
    "put",
    "zed@example.test",
    "away",
    `${mail.server.dir}/away.sieve`,
    "--activate",
  ]);
  expect(away.stderr).toBe("");
  imap = new ImapFlow({
    host: "127.0.0.1",
    port: mail.server.ports.imap!,
    secure: false,
    doSTARTTLS: true,
    auth: { user: "ivy@example.test", pass: "ivy-password" },
    tls: { rejectUnauthorized: false },
    logger: false,
  });
  imap.on("error", () => {});
  await imap.connect();
}, 60_000);

afterAll(async () => {
  await imap?.logout().catch(() => {});
  await mail?.stop();
  await mx?.close(0);
});

function send(to: string, subject: string, extra = "", from = "x@remote.test") {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({
      envelope: { from, to: [to] },
      raw: `From: Xavier <x@remote.test>\r\nTo: ${to}\r\nSubject: ${subject}\r\n${extra}Message-ID: <${
        subject.replace(/\W/g, "")
      }@remote.test>\r\n\r\nhello\r\n`,
    });
}

/** Subject → flags of every message in a mailbox; null when the mailbox does not exist. */
async function contents(path: string): Promise<Record<string, string[]> | null> {
  const boxes = await imap.list();
  if (!boxes.some((b) => b.path === path)) return null;
  const lock = await imap.getMailboxLock(path);
  try {
    // The mailbox may be selected already: let the server report what arrived since.
    await imap.noop();
    const out: Record<string, string[]> = {};
    if ((imap.mailbox as { exists: number }).exists === 0) return out;
    for await (const m of imap.fetch("1:*", { envelope: true, flags: true })) {
      out[m.envelope!.subject!] = [...(m.flags ?? [])].sort();
    }
    return out;
  } finally {
    lock.release();
  }
}

describe(`Sieve at delivery on ${runtime()}`, () => {
  test("files by header and subaddress, creates mailboxes, flags, copies and discards", async () => {
    await send("ivy@example.test", "Your invoice 42");
    await send("ivy+news@example.test", "Weekly news");
    await send("ivy@example.test", "drop me");
    await send("ivy@example.test", "twice");
    await send("ivy@example.test", "hello");

    expect(await contents("Bills")).toEqual({ "Your invoice 42": ["\\Flagged"] });
    expect(await contents("Lists/news")).toEqual({ "Weekly news": [] });
    expect(await contents("INBOX")).toEqual({ hello: ["$Sieved"] });
    expect(await contents("Copies")).toEqual({ twice: [] });
    expect(await contents("Archive")).toEqual({ twice: [] });

    // The two copies of "twice" are one email (RFC 8474 EMAILID where the server offers OBJECTID).
    const ids: string[] = [];
    for (const path of ["Copies", "Archive"]) {
      const lock = await imap.getMailboxLock(path);
      try {
        for await (const m of imap.fetch("1:*", { emailId: true })) ids.push(String(m.emailId));
      } finally {
        lock.release();
      }
    }
    expect(ids).toHaveLength(2);
    expect(ids[0]).not.toBe("undefined");
    expect(ids[0]).toBe(ids[1]);
  });

  test("redirect and redirect :copy leave through the queue with an SRS sender and our ARC seal", async () => {
    await publishArcKey(mail);
    await send("ivy@example.test", "for the boss");
    await send("ivy@example.test", "send away");
    const deadline = Date.now() + 20_000;
    while (remote.received.length < 2 && Date.now() < deadline) await Bun.sleep(100);
    const arrived = remote.received.map((r) => ({
      to: r.transaction.recipients.map((x) => x.address),
      srs: /^SRS0=[^@]+=remote\.test=x@/i.test(r.transaction.sender),
      subject: /^Subject: (.*)$/m.exec(r.content)?.[1]?.trim(),
    })).sort((a, b) => a.subject!.localeCompare(b.subject!));
    expect(arrived).toEqual([
      { to: ["Boss@remote.test"], srs: true, subject: "for the boss" },
      { to: ["archive@remote.test"], srs: true, subject: "send away" },
    ]);
    // RFC 8617: sealed like any forward (issue 21), and the seal verifies at the next hop.
    for (const r of remote.received) {
      expect(r.content).toMatch(/^ARC-Seal: i=1; a=rsa-sha256; t=\d+; cv=none;\s+d=postern\.test; s=arc1;/m);
      expect(r.content).toContain("ARC-Authentication-Results: i=1; mx.postern.test;");
      expect((await nextHopVerdict(mail, r.content, r.transaction.sender)).arc).toBe("pass");
    }
    // :copy keeps the message; a plain redirect does not.
    const inbox = await contents("INBOX");
    expect(Object.keys(inbox!).sort()).toEqual(["for the boss", "hello"]);
  });

  test("one sender is rejected at SMTP time (RFC 5429 §2.1.1); nothing is stored", async () => {
    const refused = await send("ivy@example.test", "let me in", "", "pest@remote.test").then(
      () => null,
      (e: { response?: string }) => e.response,
    );
    expect(refused).toBe("550 5.7.1 No mail from you, thank you.");
    expect(Object.keys((await contents("INBOX"))!).sort()).toEqual(["for the boss", "hello"]);
  });

  test("with no active script, mail goes to INBOX again", async () => {
    expect((await mail.server.cli(["sieve", "activate", "ivy@example.test"])).code).toBe(0);
    await send("ivy@example.test", "Another invoice");
    expect(Object.keys((await contents("INBOX"))!).sort()).toEqual(["Another invoice", "for the boss", "hello"]);
    const list = await mail.server.cli(["sieve", "list", "ivy@example.test"]);
    expect(list.stdout).toMatch(/^main\t\t\d+\t/);
  });

  test("vacation: one reply per sender and period, none to a list; DKIM-signed", async () => {
    await publishDkimKey(mail, "example.test", "s1");
    await send("zed@example.test", "first question");
    await send("zed@example.test", "second question");
    await send("zed@example.test", "list traffic", "List-Id: <chat.remote.test>\r\n");
    const replies = () => remote.received.filter((r) => r.transaction.recipients[0]?.address === "x@remote.test");
    const deadline = Date.now() + 20_000;
    while (replies().length < 1 && Date.now() < deadline) await Bun.sleep(100);
    await Bun.sleep(1500); // room for a wrong second reply to arrive
    expect(replies()).toHaveLength(1);
    const [reply] = replies();
    expect(reply!.transaction.sender).toBe("");
    expect(reply!.content).toMatch(/^From: zed@example\.test\r$/m);
    expect(reply!.content).toMatch(/^Subject: Away\r$/m);
    expect(reply!.content).toMatch(/^Auto-Submitted: auto-replied\r$/m);
    expect(reply!.content).toMatch(/^In-Reply-To: <firstquestion@remote\.test>\r$/m);
    expect(reply!.content).toContain("Back on Monday.");
    expect((await nextHopVerdict(mail, reply!.content, "")).dkimPass).toEqual(["example.test"]);
  });
});
