/**
 * A test helper: start Postern inside your test suite, point your application's SMTP settings
 * at it, and assert on the mail it sends. Nothing leaves the machine — every message is
 * captured and dropped at the data stage.
 *
 *   const mail = await startCapture();
 *   // configure the app: host 127.0.0.1, port mail.port, user mail.user, password mail.password
 *   const [welcome] = await mail.waitFor(1);
 *   expect(welcome.subject).toBe("Welcome!");
 *   await mail.stop();
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPostern } from "postern";

export interface CapturedMail {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  raw: Uint8Array;
}

export interface Capture {
  /** The submission port (plain, AUTH allowed without TLS on loopback). */
  port: number;
  user: string;
  password: string;
  messages: CapturedMail[];
  /** Resolves once `count` messages have been captured (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<CapturedMail[]>;
  stop(): Promise<void>;
}

/**
 * `sender` is the address the application sends from: the capture account is made for it, since
 * a submission server lets an account send only as itself (its MAIL FROM and From:).
 */
export async function startCapture(options: { sender?: string } = {}): Promise<Capture> {
  const dataDir = mkdtempSync(join(tmpdir(), "postern-capture-"));
  const messages: CapturedMail[] = [];
  const waiters: Array<() => void> = [];
  const postern = await createPostern({
    config: {
      hostname: "capture.localhost",
      dataDir,
      auth: { allowPlaintext: true },
      listeners: {
        submission: { host: "127.0.0.1", port: 0 },
        smtp: false,
        submissions: false,
        imap: false,
        imaps: false,
        pop3: false,
        pop3s: false,
        http: false,
      },
    },
    hooks: [{
      async data(message) {
        const parsed = await message.parsed();
        messages.push({
          from: message.sender,
          to: message.recipients,
          subject: parsed.subject ?? "",
          text: parsed.text ?? "",
          html: parsed.html ?? null,
          raw: message.raw!,
        });
        for (const wake of waiters.splice(0)) wake();
        return { action: "discard" };
      },
    }],
  });
  const user = options.sender ?? "app@capture.localhost";
  const password = crypto.randomUUID();
  await postern.domains.add(user.slice(user.lastIndexOf("@") + 1));
  await postern.accounts.add({ address: user, password });
  return {
    port: postern.addresses.submission!.port,
    user,
    password,
    messages,
    async waitFor(count, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (messages.length < count) {
        if (Date.now() > deadline) {
          throw new Error(`captured ${messages.length} of ${count} messages in ${timeoutMs} ms`);
        }
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return messages.slice(0, count);
    },
    async stop() {
      await postern.stop(0);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

if (import.meta.main) {
  const capture = await startCapture({ sender: process.env.SENDER });
  console.log(
    `SMTP submission on 127.0.0.1:${capture.port}, user ${capture.user}, password ${capture.password}; captured mail is printed`,
  );
  setInterval(() => {
    for (const m of capture.messages.splice(0)) console.log(`${m.from} → ${m.to.join(", ")}: ${m.subject}`);
  }, 200);
}
