/**
 * An attached message in the webmail (issue 22): a message/rfc822 part, or a file named .eml, opens inside the
 * reader through JMAP Email/parse — its HTML sanitised like any message's (no script, remote images blocked), its
 * own attachments downloadable byte-identical.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Locator, Page } from "playwright-core";
import { runtime } from "../helpers/runtime.ts";
import { haveChromium, type MailBrowser, messageRow, startMailBrowser } from "./mail-browser.ts";

let web: MailBrowser;
/** Requests that reached the "remote" server the attached message's HTML points at: none until asked. */
const remoteHits: string[] = [];
let remote: ReturnType<typeof Bun.serve> | undefined;

beforeAll(async () => {
  if (!haveChromium) return;
  remote = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      remoteHits.push(new URL(request.url).pathname);
      return new Response("tracked");
    },
  });
  web = await startMailBrowser({ users: { "jo@example.test": "jo-password" } });
}, 90_000);

afterAll(async () => {
  await web?.stop();
  remote?.stop(true);
}, 30_000);

/** Every byte value, so a text conversion anywhere would show. */
const innerBytes = new Uint8Array(3001).map((_, i) => (i * 53 + 7) % 256);

function attachedMessage(remoteUrl: string): string {
  const b64 = Buffer.from(innerBytes).toString("base64").replace(/.{76}/g, "$&\r\n");
  return [
    "From: Ada <ada@elsewhere.test>",
    "To: lee@elsewhere.test",
    "Subject: The original report",
    "Date: Fri, 27 Nov 2026 08:00:00 +0000",
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="inner"',
    "",
    "--inner",
    "Content-Type: text/html; charset=utf-8",
    "",
    `<html><body><h1>Report inside</h1><script>parent.postMessage("ran", "*")</script>` +
    `<img src="${remoteUrl}/inner.png" onerror="alert(1)"></body></html>`,
    "--inner",
    'Content-Type: application/octet-stream; name="figures.bin"',
    'Content-Disposition: attachment; filename="figures.bin"',
    "Content-Transfer-Encoding: base64",
    "",
    b64,
    "--inner--",
    "",
  ].join("\r\n");
}

function outer(subject: string, partHeaders: string[], inner: string): string {
  return [
    "From: Lee <lee@elsewhere.test>",
    "To: jo@example.test",
    `Subject: ${subject}`,
    "MIME-Version: 1.0",
    'Content-Type: multipart/mixed; boundary="outer"',
    "",
    "--outer",
    "Content-Type: text/plain; charset=utf-8",
    "",
    "Forwarding the report as an attachment.",
    "--outer",
    ...partHeaders,
    "",
    inner,
    "--outer--",
    "",
  ].join("\r\n");
}

async function download(page: Page, link: Locator): Promise<Uint8Array> {
  const [file] = await Promise.all([page.waitForEvent("download"), link.click()]);
  return new Uint8Array(readFileSync((await file.path())!));
}

describe.skipIf(!haveChromium)(`attached messages in Chromium (server on ${runtime()})`, () => {
  test("a message/rfc822 attachment opens in the reader, sanitised, its attachment downloadable", async () => {
    const remoteUrl = `http://127.0.0.1:${remote!.port}`;
    await web.smtpSend(
      outer("Fwd: report", [
        "Content-Type: message/rfc822",
        'Content-Disposition: attachment; filename="report.eml"',
      ], attachedMessage(remoteUrl)),
      "jo@example.test",
    );
    const page = await web.newPage();
    await web.signIn(page, "jo@example.test", "jo-password");
    await messageRow(page, "Fwd: report").click();
    await expect(page.locator(".reader .body-text").first().textContent()).resolves.toContain("Forwarding the report");
    await page.click(".reader .attachments li:has-text('report.eml') button.preview-message");
    const inner = page.locator(".attached-message");
    await expect(inner.locator(".subject").textContent()).resolves.toBe("The original report");
    await expect(inner.locator(".from").textContent()).resolves.toContain("Ada <ada@elsewhere.test>");
    const frame = inner.locator("iframe.body-html");
    expect(await frame.getAttribute("sandbox")).toBe("allow-popups allow-popups-to-escape-sandbox");
    const srcdoc = (await frame.getAttribute("srcdoc"))!;
    expect(srcdoc).toContain("Content-Security-Policy");
    expect(srcdoc).not.toMatch(/<script|onerror|127\.0\.0\.1/i);
    await expect(page.frameLocator(".attached-message iframe.body-html").locator("h1").textContent()).resolves
      .toBe("Report inside");
    await expect(inner.locator(".blocked-images").textContent()).resolves.toContain("1 remote image(s) blocked");
    const link = inner.locator(".attachments a", { hasText: "figures.bin" });
    expect(await download(page, link)).toEqual(innerBytes);
    await Bun.sleep(300);
    expect(remoteHits).toEqual([]);
    // Close folds it away again.
    await page.click(".reader .attachments li:has-text('report.eml') button.preview-message");
    await inner.waitFor({ state: "detached" });
  });

  test("a file named .eml sent as application/octet-stream opens too; a non-message .eml says so", async () => {
    const b64 = (text: string) => Buffer.from(text).toString("base64").replace(/.{76}/g, "$&\r\n");
    await web.smtpSend(
      outer("Saved mail", [
        'Content-Type: application/octet-stream; name="saved.eml"',
        'Content-Disposition: attachment; filename="saved.eml"',
        "Content-Transfer-Encoding: base64",
      ], b64("From: Bo <bo@elsewhere.test>\r\nSubject: Plain saved mail\r\n\r\nJust text in a saved file.\r\n")),
      "jo@example.test",
    );
    await web.smtpSend(
      outer("Not mail", [
        'Content-Type: application/octet-stream; name="junk.eml"',
        'Content-Disposition: attachment; filename="junk.eml"',
        "Content-Transfer-Encoding: base64",
      ], b64("no header here, only words\r\n")),
      "jo@example.test",
    );
    const page = await web.newPage();
    await web.signIn(page, "jo@example.test", "jo-password");
    await messageRow(page, "Saved mail").click();
    await page.click(".reader button.preview-message");
    await expect(page.locator(".attached-message .subject").textContent()).resolves.toBe("Plain saved mail");
    await expect(page.locator(".attached-message .body-text").textContent()).resolves.toContain("Just text");
    await messageRow(page, "Not mail").click();
    await page.click(".reader button.preview-message");
    await expect(page.locator(".attached-message .notice").textContent()).resolves.toContain("not a readable message");
  });
});
