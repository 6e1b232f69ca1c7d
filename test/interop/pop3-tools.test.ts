/**
 * POP3 against the fetch tools people run: fetchmail and getmail6 (Debian packages) and Python's
 * poplib. Each downloads every message, byte for byte, and deletes it from the server.
 * Each test skips, saying which tool is missing, where it is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import type { ServerProcess } from "../helpers/server.ts";

const fetchmail = Bun.which("fetchmail");
const getmail = Bun.which("getmail");
const python = Bun.which("python3");
if (!fetchmail) console.warn("skipping fetchmail test: fetchmail is not installed (apt-get install fetchmail)");
if (!getmail) console.warn("skipping getmail6 test: getmail is not installed (apt-get install getmail6)");
if (!python) console.warn("skipping poplib test: python3 is not installed");

let mail: MailServer | undefined;
let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  if (!fetchmail && !getmail && !python) return;
  mail = await startMailServer({
    waitFor: ["smtp", "pop3", "pop3s"],
    users: Object.fromEntries(["fm", "gm", "py"].map((u) => [`${u}@example.test`, `${u}-password`])),
  });
  ({ server, dataDir } = mail);
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

/** Delivers three messages (one with dot-leading lines, one of 300 KB) and returns them as stored. */
async function seed(user: string): Promise<string[]> {
  const smtp = nodemailer.createTransport({
    host: "127.0.0.1",
    port: server.ports.smtp,
    ignoreTLS: true,
    name: "client.test",
  });
  const bodies = [
    "plain body\r\n",
    ".leading dot\r\n..two dots\r\n.\r\nafter a lone dot\r\n",
    `${"z".repeat(998)}\r\n`.repeat(300),
  ];
  for (const [i, body] of bodies.entries()) {
    await smtp.sendMail({
      envelope: { from: "x@remote.test", to: [`${user}@example.test`] },
      raw: `From: x@remote.test\r\nSubject: ${user} ${i}\r\n\r\n${body}`,
    });
  }
  return (await readInbox(dataDir, `${user}@example.test`)).map((m) => m.raw);
}

async function run(cmd: string[], env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(cmd, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

/**
 * Fetch tools hand messages on with LF line ends and add their own trace headers (getmail on
 * top, fetchmail just above the first Received:); getmail also re-folds long header lines.
 * So: bodies must match byte for byte, headers after unfolding, minus the tools' own lines.
 */
function expectCollected(fetched: string[], stored: string[]): void {
  expect(fetched).toHaveLength(stored.length);
  const normalize = (message: string, dropTrace: boolean) => {
    const lf = message.replace(/\r\n/g, "\n");
    const split = lf.indexOf("\n\n");
    const fields = lf.slice(0, split).replace(/\n[ \t]+/g, " ").split("\n");
    const own = (f: string) =>
      /^(Return-Path|Delivered-To):/.test(f) || (/^Received:/.test(f) && /fetchmail|getmail/.test(f));
    return `${fields.filter((f) => !(dropTrace && own(f))).map((f) => f.replace(/[ \t]+/g, " ")).join("\n")}\n${
      lf.slice(split)
    }`;
  };
  const collected = fetched.map((f) => normalize(f, true));
  for (const original of stored) {
    expect(collected.filter((f) => f === normalize(original, false))).toHaveLength(1);
  }
}

describe(`POP3 interoperability on ${runtime()}`, () => {
  test.skipIf(!fetchmail)("fetchmail over pop3s collects every message intact and deletes them", async () => {
    const stored = await seed("fm");
    const dir = join(server.dir, "fetchmail");
    mkdirSync(join(dir, "out"), { recursive: true });
    const rc = join(dir, "fetchmailrc");
    writeFileSync(
      rc,
      `set no bouncemail\npoll 127.0.0.1 with proto POP3 port ${server.ports.pop3s}\n` +
        `  user "fm@example.test" there with password "fm-password" is "root" here\n` +
        `  options ssl no sslcertck fetchall\n  mda "/bin/sh -c 'cat > ${join(dir, "out")}/msg.$$'"\n`,
    );
    chmodSync(rc, 0o600);
    const { code, output } = await run([fetchmail!, "-f", rc, "--nodetach", "--nosyslog"], {
      FETCHMAILHOME: dir,
      HOME: dir,
    });
    expect({ code, output }).toMatchObject({ code: 0 });
    const fetched = readdirSync(join(dir, "out")).map((f) => readFileSync(join(dir, "out", f), "utf8"));
    expectCollected(fetched, stored);
    expect(await readInbox(dataDir, "fm@example.test")).toHaveLength(0);
  });

  test.skipIf(!getmail)(
    "getmail6 over pop3s into a Maildir collects every message intact and deletes them",
    async () => {
      const stored = await seed("gm");
      const dir = join(server.dir, "getmail");
      for (const sub of ["cur", "new", "tmp"]) mkdirSync(join(dir, "Maildir", sub), { recursive: true });
      // getmail refuses to deliver as root; as root, it delivers as nobody into a Maildir nobody owns.
      const asRoot = process.getuid?.() === 0;
      if (asRoot) {
        for (const sub of ["", "cur", "new", "tmp"]) chownSync(join(dir, "Maildir", sub), 65534, 65534);
        for (const parent of [server.dir, dir]) chmodSync(parent, 0o755);
      }
      writeFileSync(
        join(dir, "getmailrc"),
        `[retriever]\ntype = SimplePOP3SSLRetriever\nserver = 127.0.0.1\nport = ${server.ports.pop3s}\n` +
          `username = gm@example.test\npassword = gm-password\n\n[destination]\ntype = Maildir\npath = ${
            join(dir, "Maildir")
          }/\n${asRoot ? "user = nobody\n" : ""}\n` +
          `[options]\ndelete = true\nread_all = true\nverbose = 1\n`,
      );
      const { code, output } = await run([getmail!, "--getmaildir", dir, "--rcfile", "getmailrc"]);
      expect({ code, output }).toMatchObject({ code: 0 });
      const fetched = readdirSync(join(dir, "Maildir", "new")).map((f) =>
        readFileSync(join(dir, "Maildir", "new", f), "utf8")
      );
      expectCollected(fetched, stored);
      expect(await readInbox(dataDir, "gm@example.test")).toHaveLength(0);
    },
  );

  test.skipIf(!python)("Python poplib: STLS, USER/PASS, UIDL, RETR every message, DELE, QUIT", async () => {
    const stored = await seed("py");
    const script = `
import poplib, ssl, sys, json
p = poplib.POP3("127.0.0.1", int(sys.argv[1]))
p.stls(context=ssl._create_unverified_context())
p.user("py@example.test"); p.pass_("py-password")
count, size = p.stat()
uidl = len(p.uidl()[1])
out = []
for i in range(1, count + 1):
    resp, lines, octets = p.retr(i)
    out.append(b"\\r\\n".join(lines).decode() + "\\r\\n")
    p.dele(i)
print(json.dumps({"uidl": uidl, "messages": out}))
p.quit()
`;
    const { code, output } = await run([python!, "-c", script, String(server.ports.pop3)]);
    expect(code).toBe(0);
    const result = JSON.parse(output) as { uidl: number; messages: string[] };
    expect(result.uidl).toBe(3);
    expect(result.messages).toEqual(stored);
    expect(await readInbox(dataDir, "py@example.test")).toHaveLength(0);
  });
});
