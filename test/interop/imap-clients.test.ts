/**
 * IMAP against real mail clients (issue 16): offlineimap3 syncs both ways and a second run
 * changes nothing; mutt, driven in tmux, opens the INBOX sorted by thread (the server's THREAD)
 * and reads a message. Each test skips, naming the missing tool, where it is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { imapScript } from "../helpers/imap-script.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";

const offlineimap = Bun.which("offlineimap");
const mutt = Bun.which("mutt");
const tmux = Bun.which("tmux");
if (!offlineimap) {
  console.warn("skipping offlineimap test: offlineimap is not installed (apt-get install offlineimap3)");
}
if (!mutt || !tmux) console.warn("skipping mutt test: mutt or tmux is not installed (apt-get install mutt tmux)");

let mail: MailServer | undefined;

beforeAll(async () => {
  if (!offlineimap && !(mutt && tmux)) return;
  mail = await startMailServer({
    waitFor: ["imaps"],
    users: { "off@example.test": "off-password", "mutt@example.test": "mutt-password" },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

async function run(cmd: string[], env?: Record<string, string>): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

const certificate = () => join(mail!.dataDir, "tls", "selfsigned.crt");
const login = (user: string) => imapScript(mail!.server.ports.imaps!, user, user.replace("@example.test", "-password"));

/** Every message file of a Maildir folder, with its flags after ":2,". */
function maildirFlags(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const sub of ["cur", "new"]) {
    for (const name of readdirSync(join(dir, sub))) {
      const subject = /Subject: (.*)/.exec(readFileSync(join(dir, sub, name), "latin1"))?.[1]?.trim() ?? "";
      out.set(subject, name.split(":2,")[1] ?? "");
    }
  }
  return out;
}

describe(`IMAP clients on ${runtime()}`, () => {
  test.skipIf(!offlineimap)(
    "offlineimap3: both ways — server mail down, local mail and flags up; a second run is quiet",
    async () => {
      const s = await login("off@example.test");
      for (const n of [1, 2]) {
        expect((await s.runLiteral("APPEND INBOX", `Subject: server ${n}\r\n\r\nbody ${n}\r\n`)).done).toMatch(/^OK/);
      }
      const dir = join(mail!.server.dir, "offlineimap");
      const maildir = join(dir, "mail");
      mkdirSync(maildir, { recursive: true });
      const fingerprint = new X509Certificate(readFileSync(certificate())).fingerprint256.replaceAll(":", "")
        .toLowerCase();
      const rc = join(dir, "offlineimaprc");
      writeFileSync(
        rc,
        [
          "[general]",
          "accounts = postern",
          `metadata = ${join(dir, "meta")}`,
          "",
          "[Account postern]",
          "localrepository = local",
          "remoterepository = remote",
          "",
          "[Repository local]",
          "type = Maildir",
          `localfolders = ${maildir}`,
          "",
          "[Repository remote]",
          "type = IMAP",
          "remotehost = 127.0.0.1",
          `remoteport = ${mail!.server.ports.imaps}`,
          "remoteuser = off@example.test",
          "remotepass = off-password",
          "ssl = yes",
          `cert_fingerprint = ${fingerprint}`,
          "",
        ].join("\n"),
      );
      const sync = () => run([offlineimap!, "-c", rc, "-o", "-u", "basic"]);
      const first = await sync();
      expect(first.output).not.toMatch(/ERROR/);
      expect(first.code).toBe(0);
      expect([...maildirFlags(join(maildir, "INBOX")).keys()].sort()).toEqual(["server 1", "server 2"]);

      // Local changes: a new message, and "server 1" read and flagged.
      writeFileSync(join(maildir, "INBOX", "new", "1000.local.host"), "Subject: written locally\r\n\r\nhi\r\n");
      const cur = join(maildir, "INBOX", "cur");
      const newDir = join(maildir, "INBOX", "new");
      for (const sub of [cur, newDir]) {
        for (const name of readdirSync(sub)) {
          if (!readFileSync(join(sub, name), "latin1").includes("Subject: server 1")) continue;
          renameSync(join(sub, name), join(cur, `${name.split(":2,")[0]}:2,FS`));
        }
      }
      const second = await sync();
      expect(second.output).not.toMatch(/ERROR/);
      const inbox = await readInbox(mail!.dataDir, "off@example.test");
      const subjects = Object.fromEntries(inbox.map((m) => [/Subject: (.*)/.exec(m.raw)![1], [...m.flags].sort()]));
      expect(subjects).toEqual({ "server 1": ["\\Flagged", "\\Seen"], "server 2": [], "written locally": [] });

      // A change on the server comes down; then nothing is left to do.
      await s.run("SELECT INBOX");
      await s.run("STORE 2 +FLAGS (\\Seen \\Answered)");
      expect((await sync()).code).toBe(0);
      expect(maildirFlags(join(maildir, "INBOX")).get("server 2")).toBe("RS");
      const quiet = await run([offlineimap!, "-c", rc, "-o", "-u", "basic"]);
      expect(quiet.code).toBe(0);
      expect(quiet.output).not.toMatch(/Copy message|Adding flag|Deleting flag|Deleting \d+ message/);
      await s.close();
    },
    60_000,
  );

  test.skipIf(!mutt || !tmux)(
    "mutt in tmux, compressed (COMPRESS=DEFLATE): opens the INBOX sorted by thread and reads a message, which becomes \\Seen",
    async () => {
      const s = await login("mutt@example.test");
      const mails = [
        "Message-ID: <root@x>\r\nFrom: Ann <ann@example.test>\r\nSubject: Trip plans\r\n\r\nLet us go on Friday.\r\n",
        "Message-ID: <other@x>\r\nFrom: Bob <bob@example.test>\r\nSubject: Invoice\r\n\r\nPlease pay.\r\n",
        "Message-ID: <reply@x>\r\nReferences: <root@x>\r\nFrom: Cy <cy@example.test>\r\nSubject: Re: Trip plans\r\n\r\n" +
        "Friday works for me.\r\n",
      ];
      for (const m of mails) expect((await s.runLiteral("APPEND INBOX", m)).done).toMatch(/^OK/);
      await s.close();
      const dir = join(mail!.server.dir, "mutt");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "certs"), readFileSync(certificate()));
      const rc = join(dir, "muttrc");
      writeFileSync(
        rc,
        [
          `set folder = "imaps://mutt%40example.test@127.0.0.1:${mail!.server.ports.imaps}/"`,
          'set spoolfile = "+INBOX"',
          'set imap_pass = "mutt-password"',
          `set certificate_file = "${join(dir, "certs")}"`,
          "set ssl_verify_host = no",
          "set sort = threads",
          "set ascii_chars = yes",
          'set index_format = "%4C %-10.10n %s"',
          'set record = ""',
          "set move = no",
          "set quit = yes",
          "set mark_old = no",
          "set pager_stop = yes",
          "set pager_index_lines = 0",
          "set help = no",
          // COMPRESS=DEFLATE (RFC 4978): mutt compresses the session when the server offers it.
          "set imap_deflate = yes",
          "",
        ].join("\n"),
      );
      const session = `postern-mutt-${process.pid}`;
      const tmuxRun = (...args: string[]) => run([tmux!, ...args]);
      await tmuxRun(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "140",
        "-y",
        "30",
        `HOME=${dir} ${mutt} -d 2 -n -F ${rc}`,
      );
      const screen = async () => (await tmuxRun("capture-pane", "-p", "-t", session)).output;
      const waitFor = async (what: RegExp) => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const text = await screen();
          if (what.test(text)) return text;
          if (Date.now() > deadline) throw new Error(`mutt never showed ${what}; the screen:\n${text}`);
          await Bun.sleep(200);
        }
      };
      try {
        const index = await waitFor(/Invoice/);
        // Threaded: the reply sits under its parent, drawn with ASCII thread arrows.
        const rows = index.split("\n").filter((l) => /^\s*\d+ /.test(l));
        expect(rows.map((r) => r.replace(/^\s*\d+\s+/, "").replace(/\s+/g, " ").trim())).toEqual([
          "Ann Trip plans",
          "Cy `->",
          "Bob Invoice",
        ]);
        await tmuxRun("send-keys", "-t", session, "Enter");
        await waitFor(/Let us go on Friday\./);
        await tmuxRun("send-keys", "-t", session, "q");
        await waitFor(/Invoice/);
        await tmuxRun("send-keys", "-t", session, "q");
        const deadline = Date.now() + 10_000;
        while ((await tmuxRun("has-session", "-t", session)).code === 0 && Date.now() < deadline) await Bun.sleep(200);
      } finally {
        await tmuxRun("kill-session", "-t", session);
      }
      // mutt's log of the protocol (-d 2, in $HOME/.muttdebug0) shows the session went compressed.
      expect(readFileSync(join(dir, ".muttdebug0"), "utf8")).toMatch(/COMPRESS DEFLATE\s[\s\S]*OK DEFLATE active/);
      const inbox = await readInbox(mail!.dataDir, "mutt@example.test");
      const seen = Object.fromEntries(inbox.map((m) => [/Subject: (.*)/.exec(m.raw)![1], m.flags.includes("\\Seen")]));
      expect(seen).toEqual({ "Trip plans": true, "Invoice": false, "Re: Trip plans": false });
    },
    60_000,
  );
});
