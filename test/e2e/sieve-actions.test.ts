/**
 * Sieve actions at delivery (issue 21), end to end over real SMTP on the runtime named by POSTERN_TEST_RUNTIME:
 * reject at SMTP time for a single recipient (550 5.7.1 with the reason) and by a DSN to the sender otherwise (RFC
 * 5429), never to the null sender; editheader on the stored and the redirected (ARC-sealed) copy (RFC 5293); spamtest fed from a
 * spamd verdict (RFC 5235); duplicate tracked across deliveries (RFC 7352); include of personal and global scripts
 * (RFC 6609); a failing script reported to the account once.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { ImapFlow } from "imapflow";
import nodemailer from "nodemailer";
import { listen, type Listener } from "../../src/net/listener.ts";
import { nextHopVerdict, publishArcKey } from "../helpers/arc.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";

const SCRIPTS: Record<string, string> = {
  ann: `require ["reject", "ereject"];
if header :is "subject" "go away" { reject "I do not take mail from you."; }
elsif header :is "subject" "extended" { ereject "Not wanted here"; }
`,
  cat: `require ["editheader", "fileinto", "copy", "mailbox", "duplicate", "include", "spamtest", "relational",
  "comparator-i;ascii-numeric"];
deleteheader "X-Tracking";
addheader "X-Sieved" "yes";
if header :is "subject" "pass it on" { redirect :copy "friend@remote.test"; }
if duplicate { fileinto :create "Dups"; stop; }
if spamtest :value "eq" :comparator "i;ascii-numeric" "6" { addheader "X-Spamtest" "6"; }
include :personal "rules";
include :global "site";
`,
  rules: `require ["fileinto", "mailbox"]; if header :is "subject" "personal" { fileinto :create "Personal"; }`,
  dan: `require "include"; include "missing";`,
};

const remote = new RecordingBackend();
let mx: Listener;
let mail: MailServer;
let spamd: Server;

beforeAll(async () => {
  mx = await listen(await remoteMxOptions(remote));
  // A spamd that answers every check "not spam, 3.0 of 5.0" (SPAMC/1.5 SYMBOLS).
  spamd = createServer((socket) => {
    let got = "";
    socket.on("data", (d) => {
      got += d.toString("latin1");
      const length = /Content-length: (\d+)/i.exec(got);
      const head = got.indexOf("\r\n\r\n");
      if (length && head >= 0 && got.length - head - 4 >= Number(length[1])) {
        socket.end("SPAMD/1.1 0 EX_OK\r\nSpam: False ; 3.0 / 5.0\r\n\r\nRULE_A");
      }
    });
  });
  await new Promise<void>((resolve) => spamd.listen(0, "127.0.0.1", resolve));
  const tmp = `${process.env.TMPDIR ?? "/tmp"}/postern-sieve-global-${crypto.randomUUID()}`;
  mkdirSync(tmp);
  await Bun.write(
    `${tmp}/site.sieve`,
    'require ["fileinto", "mailbox"]; if header :is "subject" "site" { fileinto :create "Site"; }',
  );
  mail = await startMailServer({
    waitFor: ["smtp", "imap"],
    users: {
      "ann@example.test": "ann-pw",
      "bob@example.test": "bob-pw",
      "cat@example.test": "cat-pw",
      "dan@example.test": "dan-pw",
    },
    config: {
      delivery: { transport: { "remote.test": `127.0.0.1:${mx.address().port}` }, retryDelay: 1 },
      sieve: { globalDir: tmp },
      policy: { spamassassin: { host: "127.0.0.1", port: (spamd.address() as { port: number }).port } },
    },
  });
  const put = async (account: string, name: string, active: boolean) => {
    const file = `${mail.server.dir}/${name}.sieve`;
    await Bun.write(file, SCRIPTS[name]!);
    const r = await mail.server.cli([
      "sieve",
      "put",
      `${account}@example.test`,
      name,
      file,
      ...(active ? ["--activate"] : []),
    ]);
    expect(r.stderr).toBe("");
  };
  await put("ann", "ann", true);
  await put("cat", "rules", false);
  await put("cat", "cat", true);
  // dan's script compiles but fails at run time: the included script does not exist.
  await put("dan", "dan", true);
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
  spamd?.close();
});

function send(to: string[], subject: string, options: { from?: string; extra?: string; id?: string } = {}) {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({
      envelope: { from: options.from ?? "x@remote.test", to },
      raw: `From: Xavier <x@remote.test>\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\n${options.extra ?? ""}` +
        `Message-ID: <${options.id ?? crypto.randomUUID()}@remote.test>\r\n\r\nhello\r\n`,
    });
}

/** Every message of an account's mailbox: subject → raw source; null when the mailbox does not exist. */
async function mailbox(user: string, path: string): Promise<Record<string, string> | null> {
  const imap = new ImapFlow({
    host: "127.0.0.1",
    port: mail.server.ports.imap!,
    secure: false,
    doSTARTTLS: true,
    auth: { user: `${user}@example.test`, pass: `${user}-pw` },
    tls: { rejectUnauthorized: false },
    logger: false,
  });
  imap.on("error", () => {});
  await imap.connect();
  try {
    if (!(await imap.list()).some((b) => b.path === path)) return null;
    const lock = await imap.getMailboxLock(path);
    try {
      const out: Record<string, string> = {};
      if ((imap.mailbox as { exists: number }).exists === 0) return out;
      for await (const m of imap.fetch("1:*", { envelope: true, source: true })) {
        out[m.envelope!.subject!] = m.source!.toString();
      }
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await imap.logout().catch(() => {});
  }
}

async function arrivedAt(address: string, count: number) {
  const to = () => remote.received.filter((r) => r.transaction.recipients.some((x) => x.address === address));
  const deadline = Date.now() + 20_000;
  while (to().length < count && Date.now() < deadline) await Bun.sleep(100);
  return to();
}

describe(`Sieve actions at delivery on ${runtime()}`, () => {
  test("reject with one recipient is the DATA reply; nothing is stored", async () => {
    const refused = await send(["ann@example.test"], "go away").then(() => null, (e: { response?: string }) => e);
    expect(refused?.response).toBe("550 5.7.1 I do not take mail from you.");
    const extended = await send(["ann@example.test"], "extended").then(() => null, (e: { response?: string }) => e);
    expect(extended?.response).toBe("550 5.7.1 Not wanted here");
    expect(await mailbox("ann", "INBOX")).toEqual({});
  });

  test("reject with two recipients: accepted, a DSN to the sender, the other recipient gets it", async () => {
    await send(["ann@example.test", "bob@example.test"], "go away", { from: "y@remote.test" });
    const [dsn] = await arrivedAt("y@remote.test", 1);
    expect(dsn!.transaction.sender).toBe("");
    expect(dsn!.content).toContain("report-type=delivery-status");
    expect(dsn!.content).toMatch(/^Final-Recipient: rfc822; ann@example\.test\r$/m);
    expect(dsn!.content).toMatch(/^Status: 5\.7\.1\r$/m);
    expect(dsn!.content).toContain("I do not take mail from you.");
    expect(Object.keys((await mailbox("bob", "INBOX"))!)).toEqual(["go away"]);
    expect(await mailbox("ann", "INBOX")).toEqual({});
    // RFC 5429 §2.1: never a notice to the null sender.
    await send(["ann@example.test", "bob@example.test"], "go away", { from: "" });
    await Bun.sleep(1500);
    expect(remote.received.filter((r) => r.transaction.sender === "")).toHaveLength(1);
    expect(await mailbox("ann", "INBOX")).toEqual({});
  });

  test("editheader: the stored and the redirected copy carry the edits; Received stays; the copy is sealed", async () => {
    await publishArcKey(mail);
    await send(["cat@example.test"], "pass it on", { extra: "X-Tracking: abc\r\n" });
    const stored = (await mailbox("cat", "INBOX"))!["pass it on"]!;
    expect(stored).toMatch(/^X-Sieved: yes\r$/m);
    expect(stored).not.toContain("X-Tracking");
    expect(stored).toMatch(/^Received: /m);
    const [copy] = await arrivedAt("friend@remote.test", 1);
    expect(copy!.content).toMatch(/^X-Sieved: yes\r$/m);
    expect(copy!.content).not.toContain("X-Tracking");
    // RFC 8617: the seal covers the edited copy, the bytes that left (issue 21).
    expect(copy!.content).toMatch(/^ARC-Seal: i=1; /m);
    expect((await nextHopVerdict(mail, copy!.content, copy!.transaction.sender)).arc).toBe("pass");
    expect(stored).not.toContain("ARC-Seal");
  });

  test("duplicate, spamtest, include :personal and :global", async () => {
    await send(["cat@example.test"], "personal", { id: "same" });
    await send(["cat@example.test"], "site", { id: "same" }); // same Message-ID: a duplicate
    await send(["cat@example.test"], "site");
    expect(Object.keys((await mailbox("cat", "Personal"))!)).toEqual(["personal"]);
    expect(Object.keys((await mailbox("cat", "Dups"))!)).toEqual(["site"]);
    expect(Object.keys((await mailbox("cat", "Site"))!)).toEqual(["site"]);
    // spamd said 3.0 of 5.0: spamtest 6 (RFC 5235 §3.2, scaled to the threshold).
    expect((await mailbox("cat", "Personal"))!.personal).toMatch(/^X-Spamtest: 6\r$/m);
  });

  test("a failing script keeps the message and tells the account once", async () => {
    await send(["dan@example.test"], "one");
    await send(["dan@example.test"], "two");
    const inbox = (await mailbox("dan", "INBOX"))!;
    expect(Object.keys(inbox).sort()).toEqual(['Sieve script "dan" failed', "one", "two"]);
    expect(inbox['Sieve script "dan" failed']).toContain("included script 'missing' does not exist");
  });
});
