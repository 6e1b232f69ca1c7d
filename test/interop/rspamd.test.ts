/**
 * Policy against Debian's real rspamd (installed by .ci/run; skipped with a message elsewhere):
 * rspamd runs from its packaged configuration with a local.d in a temp directory that binds its
 * workers to loopback ports and points its resolver at a closed port, so it never reaches the
 * network (its remote maps and fuzzy servers simply fail). GTUBE gets rspamd's `reject` action,
 * which Postern turns into a 550 at SMTP time; ordinary mail passes, tagged with rspamd's verdict.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import type { Subprocess } from "bun";
import nodemailer from "nodemailer";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { freePortPair } from "../helpers/ports.ts";
import { runtime } from "../helpers/runtime.ts";
import { tempDir } from "../helpers/tmp.ts";

const rspamdBin = Bun.which("rspamd") ?? (Bun.file("/usr/bin/rspamd").size > 0 ? "/usr/bin/rspamd" : null);
if (!rspamdBin) console.warn("skipping rspamd checks: rspamd is not installed (apt-get install rspamd)");

const GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X";
const tmp = tempDir("postern-rspamd-");
let daemon: Subprocess | undefined;
let mail: MailServer;
let up = false;

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), resolve(true)));
    socket.once("error", () => resolve(false));
  });
}

beforeAll(async () => {
  if (!rspamdBin) return;
  const [normal, controller] = await freePortPair();
  const local = join(tmp.path, "local.d");
  for (const dir of [local, join(tmp.path, "db"), join(tmp.path, "run"), join(tmp.path, "log")]) {
    mkdirSync(dir, { recursive: true });
  }
  writeFileSync(join(local, "worker-normal.inc"), `bind_socket = "127.0.0.1:${normal}";\ncount = 1;\n`);
  writeFileSync(join(local, "worker-controller.inc"), `bind_socket = "127.0.0.1:${controller}";\n`);
  // The proxy worker is not needed; its default socket (11332) must not clash with anything.
  writeFileSync(join(local, "worker-proxy.inc"), "enabled = false;\n");
  writeFileSync(
    join(local, "logging.inc"),
    `type = "file";\nfilename = "${join(tmp.path, "log", "rspamd.log")}";\nlevel = "error";\n`,
  );
  // A resolver on a closed port: lookups fail at once and nothing leaves the machine.
  writeFileSync(join(local, "options.inc"), 'dns { nameserver = ["127.0.0.1:1"]; timeout = 0.5s; retransmits = 1; }\n');
  const vars = {
    LOCAL_CONFDIR: tmp.path,
    DBDIR: join(tmp.path, "db"),
    RUNDIR: join(tmp.path, "run"),
    LOGDIR: join(tmp.path, "log"),
  };
  daemon = Bun.spawn(
    [
      rspamdBin,
      "-f",
      "-i",
      "-u",
      "root",
      "-g",
      "root",
      ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}=${v}`]),
    ],
    { stdout: "ignore", stderr: "ignore" },
  );
  // rspamd compiles its rules at start: seconds on an idle machine, a minute on a busy one.
  for (let i = 0; i < 360 && !(up = await listening(normal)); i++) await Bun.sleep(250);
  if (!up) console.warn("rspamd did not come up; see its log in the test's temp directory");
  mail = await startMailServer({
    waitFor: ["smtp"],
    users: { "pat@example.test": "pat-password" },
    config: { policy: { rspamd: up ? { url: `http://127.0.0.1:${normal}`, timeout: 30_000 } : undefined } },
  });
}, 150_000);

afterAll(async () => {
  await mail?.stop();
  daemon?.kill();
  await daemon?.exited;
  tmp.cleanup();
});

function send(raw: string) {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({ envelope: { from: "x@remote.test", to: ["pat@example.test"] }, raw })
    .then((info) => info.response, (e: { response?: string }) => e.response ?? String(e));
}

describe(`policy with a real rspamd on ${runtime()}`, () => {
  test.skipIf(!rspamdBin)("GTUBE gets rspamd's reject action: 550 at SMTP time, nothing stored", async () => {
    expect(up).toBe(true);
    const reply = await send(`From: x@remote.test\r\nTo: pat@example.test\r\nSubject: gtube\r\n\r\n${GTUBE}\r\n`);
    expect(reply).toMatch(/^550 5\.7\.1 Gtube pattern/);
    expect((await readInbox(mail.dataDir, "pat@example.test")).some((m) => m.raw.includes("GTUBE"))).toBe(false);
  }, 60_000);

  test.skipIf(!rspamdBin)("ordinary mail passes, tagged with rspamd's score and action", async () => {
    expect(up).toBe(true);
    const reply = await send(
      "From: x@remote.test\r\nTo: pat@example.test\r\nSubject: lunch\r\nMessage-ID: <lunch@remote.test>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nShall we meet at noon?\r\n",
    );
    expect(reply).toMatch(/^250 /);
    const stored = (await readInbox(mail.dataDir, "pat@example.test")).find((m) => m.raw.includes("Shall we meet"));
    expect(stored?.raw).toMatch(/X-Spam-Status: No, score=\d+\.\d required=\d+\.\d tests=/);
    expect(stored?.raw).toContain("X-Spam-Action: no action");
  }, 60_000);
});
