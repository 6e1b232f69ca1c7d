/**
 * The policy pipeline with the real daemons from Debian: SpamAssassin's spamd stops GTUBE,
 * ClamAV's clamd (with a locally written EICAR signature, no download) stops EICAR even inside a
 * base64 attachment, clean mail passes tagged, and a user's hook module changes verdicts.
 * Each part skips, saying which daemon is missing, where it is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import nodemailer from "nodemailer";
import { readInbox } from "../helpers/mailbox.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";
import { tempDir } from "../helpers/tmp.ts";
import { freePortPair } from "../helpers/ports.ts";

const spamd = Bun.which("spamd") ?? (Bun.file("/usr/sbin/spamd").size > 0 ? "/usr/sbin/spamd" : null);
const clamd = Bun.which("clamd") ?? (Bun.file("/usr/sbin/clamd").size > 0 ? "/usr/sbin/clamd" : null);
if (!spamd) console.warn("skipping spamd checks: spamd is not installed (apt-get install spamassassin)");
if (!clamd) console.warn("skipping clamd checks: clamd is not installed (apt-get install clamav-daemon)");

const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
const EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
const [SPAMD_PORT, CLAMD_PORT] = await freePortPair();
const tmp = tempDir("postern-policy-");
const daemons: Subprocess[] = [];
let mail: MailServer;

async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = require("node:net").connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
    if (ok) return true;
    await Bun.sleep(250);
  }
  return false;
}

beforeAll(async () => {
  if (spamd) {
    const home = join(tmp.path, "spamd-home");
    mkdirSync(home);
    chownSync(home, 65534, 65534);
    daemons.push(
      Bun.spawn([
        spamd,
        `--listen=127.0.0.1:${SPAMD_PORT}`,
        "--max-children=2",
        "-u",
        "nobody",
        "-x",
        `--helper-home-dir=${home}`,
        `--syslog=${join(tmp.path, "spamd.log")}`,
      ], { cwd: home, env: { ...process.env, TMPDIR: home }, stdout: "ignore", stderr: "ignore" }),
    );
  }
  if (clamd) {
    const db = join(tmp.path, "clamdb");
    mkdirSync(db);
    // A body signature (.ndb: name:target:offset:hex) matches the test string wherever it
    // appears, in a plain body or in a decoded attachment; an .hdb file hash would not.
    writeFileSync(join(db, "eicar.ndb"), `Eicar-Test-Signature:0:*:${Buffer.from(EICAR).toString("hex")}\n`);
    writeFileSync(
      join(tmp.path, "clamd.conf"),
      `DatabaseDirectory ${db}\nTCPSocket ${CLAMD_PORT}\nTCPAddr 127.0.0.1\nForeground yes\nUser root\nLogFile ${
        join(tmp.path, "clamd.log")
      }\n`,
    );
    daemons.push(Bun.spawn([clamd, "-c", join(tmp.path, "clamd.conf")], { stdout: "ignore", stderr: "ignore" }));
  }
  // The user's own hook: refuses a subject at the data stage and one recipient at RCPT.
  const hook = join(tmp.path, "my-hooks.mjs");
  writeFileSync(
    hook,
    `export async function data(ctx) {
  const email = await ctx.parsed();
  if (/forbidden/i.test(email.subject ?? "")) return { action: "reject", reason: "Subject refused by local rule" };
  if (/quarantine/i.test(email.subject ?? "")) return { action: "junk", reason: "local rule", headers: ["X-Local-Rule: junk"] };
}
export function rcpt(ctx) {
  if (ctx.recipients.includes("blocked@example.test")) return { action: "reject", reason: "This recipient takes no mail" };
}
`,
  );
  const [spamdUp, clamdUp] = await Promise.all([
    spamd ? waitForPort(SPAMD_PORT, 40_000) : false,
    clamd ? waitForPort(CLAMD_PORT, 40_000) : false,
  ]);
  mail = await startMailServer({
    waitFor: ["smtp"],
    users: { "pat@example.test": "pat-password", "blocked@example.test": "blocked-password" },
    config: {
      policy: {
        spamassassin: spamdUp ? { port: SPAMD_PORT, timeout: 30_000 } : false,
        clamav: clamdUp ? { port: CLAMD_PORT, timeout: 30_000 } : false,
        hooks: [hook],
      },
    },
  });
  if (spamd && !spamdUp) console.warn("spamd did not come up; its checks will fail");
}, 90_000);

afterAll(async () => {
  await mail?.stop();
  for (const d of daemons) d.kill();
  tmp.cleanup();
});

function send(raw: string, to = "pat@example.test") {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({ envelope: { from: "x@remote.test", to: [to] }, raw })
    .then((info) => info.response, (e: { response?: string }) => e.response ?? String(e));
}

describe(`policy with real daemons on ${runtime()}`, () => {
  test.skipIf(!spamd)("spamd: GTUBE is refused at SMTP time", async () => {
    const reply = await send(`From: x@remote.test\r\nTo: pat@example.test\r\nSubject: gtube\r\n\r\n${GTUBE}\r\n`);
    expect(reply).toMatch(/^550 5\.7\.1 Message considered spam \(score 1\d{3}\.\d\)/);
  }, 60_000);

  test.skipIf(!clamd)("clamd: EICAR is refused, also inside a base64 attachment", async () => {
    const plain = await send(`From: x@remote.test\r\nTo: pat@example.test\r\nSubject: eicar\r\n\r\n${EICAR}\r\n`);
    expect(plain).toMatch(/^550 5\.7\.1 Virus found: Eicar-Test-Signature\.UNOFFICIAL/);
    const attached = await send(
      'From: x@remote.test\r\nTo: pat@example.test\r\nSubject: eicar attached\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
        `--b\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename="eicar.com"\r\n\r\n${
          btoa(EICAR)
        }\r\n--b--\r\n`,
    );
    expect(attached).toMatch(/^550 5\.7\.1 Virus found: /);
  }, 60_000);

  test("clean mail passes with the checks' headers", async () => {
    const reply = await send(
      "From: x@remote.test\r\nTo: pat@example.test\r\nSubject: hello clean\r\n\r\nNothing to see here.\r\n",
    );
    expect(reply).toMatch(/^250 /);
    const stored = (await readInbox(mail.dataDir, "pat@example.test")).find((m) => m.raw.includes("hello clean"))!;
    if (spamd) expect(stored.raw).toMatch(/^X-Spam-Status: No, score=-?\d+\.\d required=5\.0/m);
    if (clamd) expect(stored.raw).toContain("X-Virus-Scanned: clamav, clean");
  }, 60_000);

  test("a user's hook module changes verdicts: reject by subject, junk by subject, reject a recipient", async () => {
    expect(await send("From: x@remote.test\r\nTo: pat@example.test\r\nSubject: forbidden fruit\r\n\r\nx\r\n")).toMatch(
      /^550 5\.7\.1 Subject refused by local rule/,
    );
    expect(
      await send("From: x@remote.test\r\nTo: blocked@example.test\r\nSubject: hi\r\n\r\nx\r\n", "blocked@example.test"),
    ).toMatch(/^550 5\.7\.1 This recipient takes no mail/);
    expect(await send("From: x@remote.test\r\nTo: pat@example.test\r\nSubject: please quarantine\r\n\r\nx\r\n"))
      .toMatch(/^250 /);
    const inbox = await readInbox(mail.dataDir, "pat@example.test");
    expect(inbox.some((m) => m.raw.includes("please quarantine"))).toBe(false);
  }, 60_000);
});
