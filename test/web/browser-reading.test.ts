/**
 * The webmail in Chromium, reading (issue 22): sign-in, live delivery, an HTML message whose script does not run and
 * whose remote images stay blocked until asked for, an attachment downloaded byte-identical. See ./helpers.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { runtime } from "../helpers/runtime.ts";
import { attachmentBytes, downloadBytes, haveChromium, htmlWithAttachment, message, SHOTS, useWeb } from "./helpers.ts";

const web = useWeb();
/** Requests that reached the "remote" server a message's HTML points at: there must be none. */
const remoteHits: string[] = [];
let remote: { port: number; stop(): void };

beforeAll(() => {
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      remoteHits.push(new URL(request.url).pathname);
      return new Response("tracked", { headers: { "access-control-allow-origin": "*" } });
    },
  });
  remote = { port: server.port!, stop: () => server.stop(true) };
});
afterAll(() => remote?.stop());

let jo: Page;

describe.skipIf(!haveChromium)(`webmail in Chromium: reading (server on ${runtime()})`, () => {
  test("sign in: a wrong password is refused, then the inbox opens", async () => {
    jo = await web.newPage();
    await jo.goto(`${web.base}/mail/`);
    await jo.screenshot({ path: join(SHOTS, "webmail-sign-in.png") });
    await jo.fill("input[name=username]", "jo@example.test");
    await jo.fill("input[name=password]", "not-the-password");
    await jo.click("button[type=submit]");
    await expect(jo.locator("[role=alert]").textContent()).resolves.toContain("Wrong address or password");
    await web.signIn(jo, "jo@example.test", "jo-password");
    const [cookie] = await jo.context().cookies();
    expect(cookie).toMatchObject({ name: "postern_session", httpOnly: true, sameSite: "Strict", secure: false });
    // HttpOnly: the page's own script cannot read it.
    expect(await jo.evaluate(() => document.cookie)).toBe("");
  });

  test("a message delivered over SMTP appears without reload; opening it marks it read", async () => {
    await web.smtpSend(
      "From: Sam Sender <sender@elsewhere.test>\r\nTo: jo@example.test\r\nSubject: Hello from SMTP\r\n" +
        "Date: Sat, 28 Nov 2026 09:30:00 +0000\r\n\r\nPlain words over SMTP.\r\nSecond line.\r\n",
      "jo@example.test",
    );
    await message(jo, "Hello from SMTP").waitFor();
    await expect(jo.locator(".mailbox[data-role=inbox] .unread").textContent()).resolves.toBe("1");
    expect(await message(jo, "Hello from SMTP").getAttribute("class")).toContain("unread");
    await message(jo, "Hello from SMTP").click();
    await expect(jo.locator(".reader .body-text").textContent()).resolves.toContain("Plain words over SMTP.");
    await expect(jo.locator(".reader .from").textContent()).resolves.toContain("Sam Sender");
    await jo.locator(".mailbox[data-role=inbox] .unread").waitFor({ state: "detached" });
  });

  test("an HTML message: its script does not run and no remote image loads; the attachment is byte-identical", async () => {
    const remoteUrl = `http://127.0.0.1:${remote.port}`;
    const html = `<html><body><h1>Quarterly news</h1><p style="color:#225">Hello in <b>HTML</b>.</p>` +
      `<script>fetch("${remoteUrl}/script");parent.document.title="pwned"</script>` +
      `<img src="${remoteUrl}/pixel.png" alt="tracker">` +
      `<img src="x" onerror="fetch('${remoteUrl}/onerror')">` +
      `<div style="background:url(${remoteUrl}/background.png)">styled</div>` +
      `<a href="javascript:fetch('${remoteUrl}/link')">a link</a></body></html>`;
    await web.smtpSend(htmlWithAttachment("jo@example.test", "HTML with a script", html), "jo@example.test");
    await message(jo, "HTML with a script").click();
    const frame = jo.locator("iframe.body-html");
    await frame.waitFor();
    expect(await frame.getAttribute("sandbox")).toBe("allow-popups allow-popups-to-escape-sandbox");
    const srcdoc = (await frame.getAttribute("srcdoc"))!;
    expect(srcdoc).toContain("Content-Security-Policy");
    expect(srcdoc).not.toMatch(/<script|onerror|javascript:|127\.0\.0\.1/i);
    await expect(jo.frameLocator("iframe.body-html").locator("h1").textContent()).resolves.toBe("Quarterly news");
    await expect(jo.locator(".blocked-images").textContent()).resolves.toContain("2 remote image(s) blocked");
    await jo.screenshot({ path: join(SHOTS, "webmail-message.png") });

    const link = jo.locator(".reader .attachments a", { hasText: "data.bin" });
    expect(await downloadBytes(jo, link)).toEqual(attachmentBytes);
    await Bun.sleep(500);
    expect(remoteHits).toEqual([]);
    expect(await jo.title()).toBe("Postern Mail");

    // Images on request: the remote image loads after the click, and still no script, handler or CSS url().
    expect(srcdoc).not.toContain("https: http:");
    await jo.click(".reader button.show-images");
    for (let i = 0; i < 50 && !remoteHits.length; i++) await Bun.sleep(100);
    await Bun.sleep(300);
    expect(remoteHits).toEqual(["/pixel.png"]);
    expect((await frame.getAttribute("srcdoc"))!).not.toMatch(/<script|onerror|javascript:/i);
    await jo.locator(".blocked-images").waitFor({ state: "detached" });
    // The page's own policy still forbids any script but its own.
    const policy = (await (await fetch(`${web.base}/mail/`)).headers.get("content-security-policy"))!;
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("img-src 'self' data: blob: https: http:");
    expect(await jo.title()).toBe("Postern Mail");
  });
});
