/**
 * IMAP against real sync tools: mbsync (Debian package isync) does a full two-way sync and a
 * second run changes nothing; Python's imaplib runs a scripted session. Each test skips, saying
 * which tool is missing, where it is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";

const mbsync = Bun.which("mbsync");
const python = Bun.which("python3");
if (!mbsync) console.warn("skipping mbsync test: mbsync is not installed (apt-get install isync)");
if (!python) console.warn("skipping imaplib test: python3 is not installed");

let mail: MailServer | undefined;

beforeAll(async () => {
  if (!mbsync && !python) return;
  mail = await startMailServer({
    waitFor: ["smtp", "imap", "imaps"],
    users: { "sync@example.test": "sync-password", "py@example.test": "py-password" },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

async function run(cmd: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

/** Every file under a Maildir tree with its size, as a comparable listing. */
function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.startsWith(".")) out.push(`${path.slice(dir.length)} ${statSync(path).size}`);
    }
  };
  walk(dir);
  return out.sort();
}

async function imapScript(script: string, user: string): Promise<{ code: number; output: string }> {
  const prelude = `
import imaplib, ssl, sys
m = imaplib.IMAP4("127.0.0.1", ${mail!.server.ports.imap})
m.starttls(ssl_context=ssl._create_unverified_context())
typ, data = m.login("${user}", "${user.replace("@example.test", "-password")}")
assert typ == "OK", data
`;
  return run([python!, "-c", prelude + script]);
}

describe(`IMAP interoperability on ${runtime()}`, () => {
  test.skipIf(!mbsync)("mbsync: a full two-way sync, then a second run finds nothing to do", async () => {
    const server = mail!.server;
    for (const n of [1, 2, 3]) {
      const result = await imapScript(
        `m.append("INBOX", None, None, b"From: a@remote.test\\r\\nSubject: server ${n}\\r\\n\\r\\nbody ${n}\\r\\n")`,
        "sync@example.test",
      );
      expect(result.code).toBe(0);
    }
    const dir = join(server.dir, "mbsync");
    const maildir = join(dir, "mail");
    mkdirSync(maildir, { recursive: true });
    const rc = join(dir, "mbsyncrc");
    writeFileSync(
      rc,
      [
        "IMAPAccount postern",
        "Host 127.0.0.1",
        `Port ${server.ports.imaps}`,
        "User sync@example.test",
        "Pass sync-password",
        "SSLType IMAPS",
        `CertificateFile ${join(mail!.dataDir, "tls", "selfsigned.crt")}`,
        "",
        "IMAPStore remote",
        "Account postern",
        "",
        "MaildirStore local",
        `Path ${maildir}/`,
        `Inbox ${maildir}/INBOX`,
        "SubFolders Verbatim",
        "",
        "Channel sync",
        "Far :remote:",
        "Near :local:",
        "Patterns *",
        "Create Both",
        "Expunge Both",
        "SyncState *",
        "",
      ].join("\n"),
    );
    const first = await run([mbsync!, "-c", rc, "-a"]);
    expect(first).toMatchObject({ code: 0 });
    const inboxNew = join(maildir, "INBOX", "new");
    expect(readdirSync(inboxNew)).toHaveLength(3);
    for (const box of ["Sent", "Drafts", "Trash", "Junk", "Archive"]) {
      expect(statSync(join(maildir, box)).isDirectory()).toBe(true);
    }

    // Local changes: a new message, a message flagged and marked read, a message deleted.
    writeFileSync(
      join(maildir, "INBOX", "cur", "1000.local.host:2,S"),
      "From: me@example.test\r\nSubject: written locally\r\n\r\nhi\r\n",
    );
    const [a, b] = readdirSync(inboxNew).sort();
    renameSync(join(inboxNew, a!), join(maildir, "INBOX", "cur", `${a}FS`));
    renameSync(join(inboxNew, b!), join(maildir, "INBOX", "cur", `${b}ST`));
    mkdirSync(join(maildir, "Projects", "cur"), { recursive: true });
    mkdirSync(join(maildir, "Projects", "new"), { recursive: true });
    mkdirSync(join(maildir, "Projects", "tmp"), { recursive: true });
    await Bun.sleep(1100); // Maildir timestamps have one-second resolution
    const second = await run([mbsync!, "-c", rc, "-a"]);
    expect(second).toMatchObject({ code: 0 });

    const inbox = await readInbox(mail!.dataDir, "sync@example.test");
    const subjects = Object.fromEntries(inbox.map((m) => [/Subject: (.*)/.exec(m.raw)![1], [...m.flags].sort()]));
    expect(subjects).toEqual({ "server 1": ["\\Flagged", "\\Seen"], "server 3": [], "written locally": ["\\Seen"] });
    const boxes = await imapScript(`print(m.list()[1])`, "sync@example.test");
    expect(boxes.output).toContain('"Projects"');

    const before = listing(maildir);
    const stateBefore = await imapScript(
      `print(m.status("INBOX", "(MESSAGES UIDNEXT HIGHESTMODSEQ)")[1])`,
      "sync@example.test",
    );
    await Bun.sleep(1100);
    const third = await run([mbsync!, "-V", "-c", rc, "-a"]);
    expect(third).toMatchObject({ code: 0 });
    expect(listing(maildir)).toEqual(before);
    const stateAfter = await imapScript(
      `print(m.status("INBOX", "(MESSAGES UIDNEXT HIGHESTMODSEQ)")[1])`,
      "sync@example.test",
    );
    expect(stateAfter.output).toBe(stateBefore.output);
  });

  test.skipIf(!python)("Python imaplib: a scripted session", async () => {
    const result = await imapScript(
      `
typ, data = m.append("INBOX", "(\\\\Seen)", None, b"From: a@remote.test\\r\\nSubject: imaplib\\r\\n\\r\\nfrom python\\r\\n")
print("append", typ, data[0].decode())
print("select", m.select("INBOX"))
print("search", m.uid("SEARCH", None, "SUBJECT", "imaplib"))
print("fetch", m.fetch("1", "(FLAGS RFC822.SIZE BODY.PEEK[TEXT])"))
print("store", m.store("1", "+FLAGS", "(\\\\Deleted)"))
print("expunge", m.expunge())
print("create", m.create("Py/Nested"))
print("list", m.list('""', "Py/*"))
print("rename", m.rename("Py/Nested", "Py/Renamed"))
print("status", m.status("Py/Renamed", "(MESSAGES UIDVALIDITY)"))
print("delete", m.delete("Py/Renamed"))
print("logout", m.logout())
`,
      "py@example.test",
    );
    expect(result.code).toBe(0);
    const out = result.output;
    expect(out).toMatch(/append OK \[APPENDUID \d+ 1\] APPEND completed/);
    expect(out).toContain("select ('OK', [b'1'])");
    expect(out).toContain("search ('OK', [b'1'])");
    expect(out).toMatch(
      // imaplib speaks IMAP4rev1: the message it appended is \Recent in its session (RFC 3501 §2.3.2).
      /fetch \('OK', \[\(b'1 \(FLAGS \(\\\\Seen \\\\Recent\) RFC822\.SIZE \d+ BODY\[TEXT\] \{13\}', b'from python\\r\\n'\)/,
    );
    expect(out).toContain("expunge ('OK', [b'1'])");
    expect(out).toContain(`list ('OK', [b'(\\\\HasNoChildren) "/" "Py/Nested"'])`);
    expect(out).toContain("rename ('OK', [b'RENAME completed'])");
    expect(out).toMatch(/status \('OK', \[b'"Py\/Renamed" \(MESSAGES 0 UIDVALIDITY \d+\)'\]\)/);
    expect(out).toContain("delete ('OK', [b'DELETE completed'])");
    expect(out).toContain("logout ('BYE'");
  });
});
