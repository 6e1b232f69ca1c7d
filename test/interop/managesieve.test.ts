/**
 * ManageSieve (RFC 5804) with a real client: Debian's sieve-connect uploads, lists, activates, downloads, checks and
 * deletes a script over STARTTLS (the server's self-signed certificate, --notlsverify), and what it uploaded runs at
 * delivery. Skips, saying so, where sieve-connect is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { Store } from "../../src/store/store.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const sieveConnect = Bun.which("sieve-connect");
if (!sieveConnect) {
  console.warn("skipping sieve-connect test: sieve-connect is not installed (apt-get install sieve-connect)");
}

let mail: MailServer | undefined;

beforeAll(async () => {
  if (!sieveConnect) return;
  mail = await startMailServer({ waitFor: ["smtp", "managesieve"], users: { "sc@example.test": "sc-password" } });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

/** One sieve-connect run as sc@example.test, the password on standard input (--passwordfd 0). */
async function sieve(args: string[], password = "sc-password"): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([
    sieveConnect!,
    "--server",
    "127.0.0.1",
    "--port",
    String(mail!.server.ports.managesieve),
    "--user",
    "sc@example.test",
    "--passwordfd",
    "0",
    "--notlsverify",
    ...args,
  ], { stdin: "pipe", stdout: "pipe", stderr: "pipe" });
  proc.stdin.write(`${password}\n`);
  await proc.stdin.end();
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

/** The flags of each message in one of sc@'s mailboxes, read from the database. */
async function flagsIn(name: string): Promise<string[][]> {
  const store = await Store.open({ url: `file:${join(mail!.dataDir, "postern.db")}` });
  try {
    const account = await store.accounts.get("sc@example.test");
    const box = await store.mailboxes.byName(account!.id, name);
    return box ? (await store.messages.list(box.id)).map((m) => m.flags) : [];
  } finally {
    store.close();
  }
}

const SCRIPT = `require ["fileinto", "imap4flags", "mailbox"];
# files invoices, flagged
if header :contains "subject" "invoice" {
  fileinto :create :flags "\\\\Flagged" "Bills";
  stop;
}
`;

describe.skipIf(!sieveConnect)(`sieve-connect (${runtime()})`, () => {
  test("upload, list, activate, download, check, deactivate and delete; the script runs at delivery", async () => {
    const dir = mail!.server.dir;
    const local = join(dir, "bills.sieve");
    writeFileSync(local, SCRIPT);

    const upload = await sieve(["--upload", "--localsieve", local, "--remotesieve", "bills"]);
    expect(upload).toMatchObject({ code: 0 });
    const list = await sieve(["--list"]);
    expect(list.code).toBe(0);
    // sieve-connect prints the LISTSCRIPTS lines as they come.
    expect(list.output).toMatch(/^"bills"$/m);

    expect(await sieve(["--activate", "--remotesieve", "bills"])).toMatchObject({ code: 0 });
    expect((await sieve(["--list"])).output).toMatch(/^"bills" ACTIVE$/m);

    const copy = join(dir, "copy.sieve");
    expect(await sieve(["--download", "--remotesieve", "bills", "--localsieve", copy])).toMatchObject({ code: 0 });
    expect(readFileSync(copy, "utf8")).toBe(SCRIPT);

    // The script uploaded is the one delivery runs.
    const smtp = nodemailer.createTransport({ host: "127.0.0.1", port: mail!.server.ports.smtp, ignoreTLS: true });
    await smtp.sendMail({
      envelope: { from: "x@remote.test", to: ["sc@example.test"] },
      raw: "From: x@remote.test\r\nTo: sc@example.test\r\nSubject: your invoice\r\n\r\npay\r\n",
    });
    expect(await flagsIn("Bills")).toEqual([["\\Flagged"]]);

    // A broken script is refused with its line and column, by CHECKSCRIPT and by PUTSCRIPT.
    const broken = join(dir, "broken.sieve");
    writeFileSync(broken, 'require "fileinto";\nfileinto "x"\n');
    const check = await sieve(["--checkscript", "--localsieve", broken]);
    expect(check.code).not.toBe(0);
    expect(check.output).toContain("line 3, column 1");
    const refused = await sieve(["--upload", "--localsieve", broken, "--remotesieve", "broken"]);
    expect(refused.code).not.toBe(0);
    expect(refused.output).toContain("line 3, column 1");
    expect((await sieve(["--list"])).output).not.toContain("broken");

    // The active script cannot be deleted; deactivated, it can.
    const active = await sieve(["--delete", "--remotesieve", "bills"]);
    expect(active.code).not.toBe(0);
    expect(await sieve(["--deactivate"])).toMatchObject({ code: 0 });
    expect(await sieve(["--delete", "--remotesieve", "bills"])).toMatchObject({ code: 0 });
    expect((await sieve(["--list"])).output).not.toContain("bills");
  }, 60_000);

  test("a wrong password fails", async () => {
    const wrong = await sieve(["--list"], "not-the-password");
    expect(wrong.code).not.toBe(0);
  }, 30_000);
});
