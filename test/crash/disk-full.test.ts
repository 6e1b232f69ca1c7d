/**
 * A full disk while receiving: the data directory is a small tmpfs, filled up under the
 * server. Clients get a 4xx (never a 250 for mail that was not stored), the server keeps
 * running, and once space returns the refused messages are accepted, and every message is stored once.
 * Needs root (mount); skipped with a message otherwise.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@libsql/client";
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

const mountPoint = mkdtempSync(join(tmpdir(), "postern-full-"));
const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=12m", "tmpfs", mountPoint]).status === 0;
if (!mounted) console.warn("disk-full test skipped: mounting a tmpfs needs root (mount -t tmpfs)");

let mail: MailServer;
const filler = join(mountPoint, "filler");

beforeAll(async () => {
  if (!mounted) return;
  mail = await startMailServer({
    waitFor: ["smtp", "http"],
    users: { "jo@example.test": "jo-password" },
    config: { dataDir: join(mountPoint, "data") },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  if (mounted) spawnSync("umount", ["-l", mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Writes zeros until the file system says ENOSPC. */
function fillDisk(): void {
  const fd = openSync(filler, "w");
  const block = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e;
  } finally {
    closeSync(fd);
  }
}

async function sendOne(port: number, id: string): Promise<string> {
  const c = await LineClient.connect(port);
  try {
    await c.reply();
    await c.line("EHLO full.test");
    await c.reply();
    await c.line("MAIL FROM:<zed@remote.test>");
    const mailFrom = (await c.reply()).at(-1)!;
    if (!mailFrom.startsWith("250")) return mailFrom;
    await c.line("RCPT TO:<jo@example.test>");
    const rcpt = (await c.reply()).at(-1)!;
    if (!rcpt.startsWith("250")) return rcpt;
    await c.line("DATA");
    await c.reply();
    const body = "x".repeat(70) + "\r\n";
    await c.send(`Message-ID: <${id}>\r\nSubject: ${id}\r\n\r\n${body.repeat(2000)}.\r\n`);
    return (await c.reply(15_000)).at(-1)!;
  } finally {
    c.close();
  }
}

describe.skipIf(!mounted)(`disk full on ${runtime()}`, () => {
  test("4xx while the disk is full, the server stays up, and mail is accepted once space returns", async () => {
    const port = mail.server.ports.smtp!;
    expect(await sendOne(port, "before@full.test")).toStartWith("250");
    fillDisk();
    const replies: string[] = [];
    for (let i = 0; i < 5; i++) replies.push(await sendOne(port, `during-${i}@full.test`));
    // RFC 5321 §4.2.2 / RFC 3463 X.3.1, or 451 when the disk filled in the middle of writing (WAL, journal).
    // A message may still fit in space the database's files already have (the WAL is written again from its start
    // once a checkpoint copied it all): then it is stored and its 250 is true, which the check of the stored
    // messages below proves. The five together need more than that.
    for (const reply of replies) expect(reply).toMatch(/^(250 2\.0\.0|452 4\.3\.1|451 4\.3\.0) /);
    expect(replies.some((r) => r.startsWith("452 4.3.1"))).toBe(true);
    const health = await fetch(`http://127.0.0.1:${mail.server.ports.http}/healthz`);
    expect(health.status).toBeLessThan(600);
    expect(mail.server.proc.exitCode).toBeNull();

    unlinkSync(filler);
    for (let i = 0; i < 5; i++) {
      if (!replies[i]!.startsWith("250")) expect(await sendOne(port, `during-${i}@full.test`)).toStartWith("250");
    }
    const db = createClient({ url: `file:${join(mountPoint, "data", "postern.db")}` });
    try {
      expect((await db.execute("PRAGMA integrity_check")).rows[0]![0]).toBe("ok");
      const ids =
        (await db.execute("SELECT e.message_id FROM messages m JOIN emails e ON e.id = m.email_id ORDER BY m.id")).rows
          .map((r) => String(r[0]).replace(/^<|>$/g, ""));
      expect(ids).toEqual(["before@full.test", ...Array.from({ length: 5 }, (_, i) => `during-${i}@full.test`)]);
    } finally {
      db.close();
    }
  }, 60_000);
});
