/**
 * Run by examples.test.ts under Deno: two embedded instances in one Deno process — the capture
 * example and a plain createPostern with an onMessage callback — each fed one message.
 * Prints one JSON line with what each saw.
 */
import nodemailer from "nodemailer";
import { startCapture } from "../../examples/capture.ts";
import { createPostern, setLogLevel } from "postern";

declare const Deno: { args: string[] } | undefined;
const [dataDir, dnsServer] = [process.argv.at(-2)!, process.argv.at(-1)!];
setLogLevel("warn");
const OFF = {
  smtp: false,
  submission: false,
  submissions: false,
  imap: false,
  imaps: false,
  pop3: false,
  pop3s: false,
  http: false,
} as const;
const capture = await startCapture({ sender: "app@deno.test" });
const heard: string[] = [];
const plain = await createPostern({
  config: {
    hostname: "mx.plain.test",
    dataDir,
    dns: { servers: [dnsServer] },
    listeners: { ...OFF, smtp: { host: "127.0.0.1", port: 0 } },
  },
  onMessage: (m) => void heard.push(m.summary.subject ?? ""),
});
await plain.domains.add("plain.test");
await plain.accounts.add({ address: "jo@plain.test", password: "unused-password" });
await nodemailer
  .createTransport({
    host: "127.0.0.1",
    port: capture.port,
    ignoreTLS: true,
    auth: { user: capture.user, pass: capture.password },
  })
  .sendMail({ from: "app@deno.test", to: "x@example.org", subject: "captured on deno", text: "hi" });
await nodemailer
  .createTransport({ host: "127.0.0.1", port: plain.addresses.smtp!.port, ignoreTLS: true })
  .sendMail({
    envelope: { from: "a@remote.test", to: ["jo@plain.test"] },
    raw: "Subject: stored on deno\r\n\r\nhi\r\n",
  });
const [captured] = await capture.waitFor(1);
for (let i = 0; i < 40 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
const stored = (await plain.messages("jo@plain.test")).map((m) => m.subject);
console.log(
  JSON.stringify({
    runtime: typeof Deno === "object" ? "deno" : "other",
    captured: captured!.subject,
    stored,
    heard,
    captureStored: capture.messages.length,
  }),
);
await capture.stop();
await plain.stop(0);
