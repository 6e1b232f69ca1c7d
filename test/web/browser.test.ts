/**
 * The webmail and the admin console in a real browser (issue 22): Debian's Chromium driven by playwright-core (no
 * browser download) against a real `postern serve`. One browser for the whole file; each user has a context of their
 * own (cookies apart). Skipped with a message where /usr/bin/chromium (CHROMIUM_PATH) is missing.
 *
 * With WEB_SCREENSHOTS=1 the main views are saved to docs/screenshots/ (shown in the README); otherwise to a
 * temporary directory, so a test run leaves the tree unchanged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nodemailer from "nodemailer";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { Store } from "../../src/store/store.ts";
import { jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { freePortPair } from "../helpers/ports.ts";
import { ROOT, runtime } from "../helpers/runtime.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`skipping the browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

const SHOTS = process.env.WEB_SCREENSHOTS
  ? join(ROOT, "docs/screenshots")
  : mkdtempSync(join(tmpdir(), "postern-shots-"));
const ADMIN_TOKEN = "admin-token-for-the-browser-test";
/** Messages in the folder of the paging test, and the time a page of its list must render within. */
const BULK = 2000;
const LIST_MS = 3000;

let mail: MailServer;
let browser: Browser;
let base: string;
/** Requests that reached the "remote" server a message's HTML points at: there must be none. */
const remoteHits: string[] = [];
let remote: { port: number; stop(): void };
const contexts: BrowserContext[] = [];

/** Bytes that survive no text conversion unchanged: every byte value, CR and LF alone, NUL. */
const attachmentBytes = new Uint8Array(4099).map((_, i) => (i * 37 + 11) % 256);

beforeAll(async () => {
  if (!haveChromium) return;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch(request) {
      remoteHits.push(new URL(request.url).pathname);
      return new Response("tracked", { headers: { "access-control-allow-origin": "*" } });
    },
  });
  remote = { port: server.port!, stop: () => server.stop(true) };
  mail = await startMailServer({
    waitFor: ["smtp", "http"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password", "sam@example.test": "sam-password" },
    config: {
      api: { adminToken: ADMIN_TOKEN },
      // Outbound mail goes to a port where nothing listens, so it stays deferred in the queue.
      delivery: { relayHost: `127.0.0.1:${(await freePortPair())[0]}`, retryDelay: 600 },
    },
  });
  base = `http://127.0.0.1:${mail.server.ports.http}`;
  const { chromium } = await import("playwright-core");
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
  mkdirSync(SHOTS, { recursive: true });
}, 90_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => {});
  await browser?.close();
  await mail?.stop();
  remote?.stop();
}, 30_000);

async function newPage(): Promise<Page> {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 760 } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return page;
}

async function signIn(page: Page, address: string, password: string) {
  await page.goto(`${base}/mail/`);
  await page.fill("input[name=username]", address);
  await page.fill("input[name=password]", password);
  await page.click("button[type=submit]");
  await page.locator(".mailbox[data-role=inbox].selected").waitFor();
}

async function smtpSend(raw: string, to: string) {
  await nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({ envelope: { from: "sender@elsewhere.test", to: [to] }, raw });
}

const message = (page: Page, subject: string) => page.locator(".messages .message", { hasText: subject });

async function downloadBytes(page: Page, link: ReturnType<Page["locator"]>): Promise<Uint8Array> {
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  return new Uint8Array(readFileSync((await download.path())!));
}

let jo: Page;
let kim: Page;
/** The download URL of Jo's attachment, which Kim must not be able to use. */
let joAttachmentUrl = "";
let joHtmlEmailId = "";

describe.skipIf(!haveChromium)(`webmail and admin in Chromium (server on ${runtime()})`, () => {
  test("sign in: a wrong password is refused, then the inbox opens", async () => {
    jo = await newPage();
    await jo.goto(`${base}/mail/`);
    await jo.screenshot({ path: join(SHOTS, "webmail-sign-in.png") });
    await jo.fill("input[name=username]", "jo@example.test");
    await jo.fill("input[name=password]", "not-the-password");
    await jo.click("button[type=submit]");
    await expect(jo.locator("[role=alert]").textContent()).resolves.toContain("Wrong address or password");
    await signIn(jo, "jo@example.test", "jo-password");
    const [cookie] = await jo.context().cookies();
    expect(cookie).toMatchObject({ name: "postern_session", httpOnly: true, sameSite: "Strict", secure: false });
    // HttpOnly: the page's own script cannot read it.
    expect(await jo.evaluate(() => document.cookie)).toBe("");
  });

  test("a message delivered over SMTP appears without reload; opening it marks it read", async () => {
    await smtpSend(
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
    const b64 = Buffer.from(attachmentBytes).toString("base64").replace(/.{76}/g, "$&\r\n");
    await smtpSend(
      [
        "From: News <news@elsewhere.test>",
        "To: jo@example.test",
        "Subject: HTML with a script",
        "MIME-Version: 1.0",
        'Content-Type: multipart/mixed; boundary="outer"',
        "",
        "--outer",
        'Content-Type: multipart/alternative; boundary="alt"',
        "",
        "--alt",
        "Content-Type: text/plain; charset=utf-8",
        "",
        "Hello in plain text.",
        "--alt",
        "Content-Type: text/html; charset=utf-8",
        "",
        html,
        "--alt--",
        "--outer",
        'Content-Type: application/octet-stream; name="data.bin"',
        'Content-Disposition: attachment; filename="data.bin"',
        "Content-Transfer-Encoding: base64",
        "",
        b64,
        "--outer--",
        "",
      ].join("\r\n"),
      "jo@example.test",
    );
    await message(jo, "HTML with a script").click();
    joHtmlEmailId = (await message(jo, "HTML with a script").getAttribute("data-id"))!;
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
    joAttachmentUrl = (await link.getAttribute("href"))!;
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
    const policy = (await (await fetch(`${base}/mail/`)).headers.get("content-security-policy"))!;
    expect(policy).toContain("script-src 'self';");
    expect(policy).toContain("img-src 'self' data: blob: https: http:");
    expect(await jo.title()).toBe("Postern Mail");
    remoteHits.length = 0;
  });

  test("compose with an attachment to Kim; her webmail shows it byte-identical; her reply joins the thread", async () => {
    await jo.click(".compose-button");
    await jo.fill(".compose input[name=to]", "Kim <kim@example.test>");
    await jo.fill(".compose input[name=subject]", "Minutes of the meeting");
    await jo.fill(".compose textarea[name=text]", "Kim,\n\nthe minutes are attached.\n\nJo");
    await jo.setInputFiles(".compose input[type=file]", {
      name: "minutes.bin",
      mimeType: "application/octet-stream",
      buffer: Buffer.from(attachmentBytes),
    });
    await jo.locator(".compose .attachments li", { hasText: "minutes.bin" }).waitFor();
    await jo.screenshot({ path: join(SHOTS, "webmail-compose.png") });
    await jo.click(".compose button[type=submit]");
    await jo.locator(".compose").waitFor({ state: "detached" });
    // Sent: in Jo's Sent mailbox without $draft.
    await jo.click(".mailbox[data-role=sent]");
    await message(jo, "Minutes of the meeting").waitFor();

    kim = await newPage();
    await signIn(kim, "kim@example.test", "kim-password");
    await message(kim, "Minutes of the meeting").click();
    await expect(kim.locator(".reader .body-text").textContent()).resolves.toContain("the minutes are attached.");
    const link = kim.locator(".reader .attachments a", { hasText: "minutes.bin" });
    expect(await downloadBytes(kim, link)).toEqual(attachmentBytes);

    // Kim replies; the reply reaches Jo's inbox live, and the conversation shows both messages.
    await kim.click(".reader button:has-text('Reply')");
    expect(await kim.inputValue(".compose input[name=subject]")).toBe("Re: Minutes of the meeting");
    expect(await kim.inputValue(".compose input[name=to]")).toBe("jo@example.test");
    await kim.fill(".compose textarea[name=text]", "Thanks, Jo.");
    await kim.click(".compose button[type=submit]");
    await kim.locator(".compose").waitFor({ state: "detached" });
    await jo.click(".mailbox[data-role=inbox]");
    await message(jo, "Re: Minutes of the meeting").click();
    await expect(jo.locator(".reader .body-text").textContent()).resolves.toContain("Thanks, Jo.");
    const thread = jo.locator(".reader .thread li");
    await thread.nth(1).waitFor();
    expect(await thread.allTextContents()).toEqual([
      expect.stringContaining("Minutes of the meeting"),
      expect.stringContaining("Re: Minutes of the meeting"),
    ]);
    await thread.first().locator("button").click();
    await expect(jo.locator(".reader .body-text").textContent()).resolves.toContain("the minutes are attached.");
  });

  test("forward with the attachments, address completion, the draft saved while writing; reply all", async () => {
    // Jo forwards her sent minutes; "ki" completes to Kim, whom she wrote to before.
    await jo.click(".mailbox[data-role=sent]");
    await message(jo, "Minutes of the meeting").click();
    await jo.click(".reader button.forward");
    expect(await jo.inputValue(".compose input[name=subject]")).toBe("Fwd: Minutes of the meeting");
    await jo.locator(".compose .attachments li", { hasText: "minutes.bin" }).waitFor();
    await jo.fill(".compose input[name=to]", "ki");
    await jo.locator(".compose .suggestions button", { hasText: "kim@example.test" }).click();
    expect(await jo.inputValue(".compose input[name=to]")).toBe("Kim <kim@example.test>, ");
    const forwarded = await jo.inputValue(".compose textarea[name=text]");
    expect(forwarded).toContain("---------- Forwarded message ----------\nFrom: jo@example.test");
    await jo.fill(".compose textarea[name=text]", `First words${forwarded}`);
    // Saved in Drafts with $draft once typing pauses; saved again (replaced, not added) after more typing.
    await jo.locator(".compose .draft-status", { hasText: "Draft saved" }).waitFor();
    expect(await drafts(jo)).toEqual([{ subject: "Fwd: Minutes of the meeting", draft: true }]);
    await jo.fill(".compose textarea[name=text]", `Kim, forwarding these again.${forwarded}`);
    for (let i = 0; i < 50 && !(await draftTexts(jo)).some((t) => t.includes("again")); i++) await Bun.sleep(100);
    expect(await draftTexts(jo)).toEqual([expect.stringContaining("forwarding these again")]);
    await jo.click(".compose button[type=submit]");
    await jo.locator(".compose").waitFor({ state: "detached" });
    expect(await drafts(jo)).toEqual([]);
    await kim.click(".mailbox[data-role=inbox]");
    await message(kim, "Fwd: Minutes of the meeting").click();
    await expect(kim.locator(".reader .body-text").textContent()).resolves.toContain("Forwarded message");
    const link = kim.locator(".reader .attachments a", { hasText: "minutes.bin" });
    expect(await downloadBytes(kim, link)).toEqual(attachmentBytes);

    // Reply all: the sender in To; the other recipients in Cc, without Jo herself.
    await smtpSend(
      "From: Lee <lee@elsewhere.test>\r\nTo: jo@example.test, Max <max@elsewhere.test>\r\n" +
        "Cc: kim@example.test\r\nSubject: Lunch plans\r\n\r\nWho is in?\r\n",
      "jo@example.test",
    );
    await jo.click(".mailbox[data-role=inbox]");
    await message(jo, "Lunch plans").click();
    await jo.click(".reader button.reply-all");
    expect(await jo.inputValue(".compose input[name=to]")).toBe("Lee <lee@elsewhere.test>");
    expect(await jo.inputValue(".compose input[name=cc]")).toBe("Max <max@elsewhere.test>, kim@example.test");
    expect(await jo.inputValue(".compose input[name=subject]")).toBe("Re: Lunch plans");
    await jo.click(".compose button:has-text('Discard')");
    await jo.locator(".compose").waitFor({ state: "detached" });
  });

  test("flag, search, move, delete, spam; create a folder and delete it", async () => {
    await jo.click(".mailbox[data-role=inbox]");
    await message(jo, "Hello from SMTP").click();
    await jo.click(".reader button.flag");
    await message(jo, "Hello from SMTP").locator(".flagged").waitFor();

    await jo.fill(".search input", "script");
    await jo.press(".search input", "Enter");
    await expect(jo.locator(".box-title").textContent()).resolves.toBe("Search: script");
    await message(jo, "HTML with a script").waitFor();
    await message(jo, "Hello from SMTP").waitFor({ state: "detached" });
    await jo.fill(".search input", "");
    await jo.press(".search input", "Enter");
    await message(jo, "Hello from SMTP").waitFor();
    await jo.screenshot({ path: join(SHOTS, "webmail-inbox.png") });

    await message(jo, "HTML with a script").click();
    await jo.selectOption(".reader select.move", { label: "Archive" });
    await message(jo, "HTML with a script").waitFor({ state: "detached" });
    await jo.click(".mailbox[data-role=archive]");
    await message(jo, "HTML with a script").click();
    await jo.click(".reader button.delete");
    await message(jo, "HTML with a script").waitFor({ state: "detached" });
    await jo.click(".mailbox[data-role=trash]");
    await message(jo, "HTML with a script").waitFor();

    // Spam goes to Junk.
    await jo.click(".mailbox[data-role=inbox]");
    await message(jo, "Re: Minutes of the meeting").click();
    await jo.click(".reader button.spam");
    await message(jo, "Re: Minutes of the meeting").waitFor({ state: "detached" });
    await jo.click(".mailbox[data-role=junk]");
    await message(jo, "Re: Minutes of the meeting").waitFor();

    // A folder: created, refused while it holds a message, deleted once empty.
    jo.once("dialog", (dialog) => dialog.accept("Projects"));
    await jo.click(".new-folder");
    const projects = jo.locator(".mailbox", { hasText: "Projects" });
    await projects.waitFor();
    await message(jo, "Re: Minutes of the meeting").click();
    await jo.selectOption(".reader select.move", { label: "Projects" });
    await projects.click();
    await message(jo, "Re: Minutes of the meeting").waitFor();
    jo.once("dialog", (dialog) => dialog.accept());
    await jo.click(".delete-folder");
    await expect(jo.locator("[role=alert]").textContent()).resolves.toContain("not empty");
    await jo.click("[role=alert] button");
    await message(jo, "Re: Minutes of the meeting").click();
    await jo.click(".reader button.delete");
    await message(jo, "Re: Minutes of the meeting").waitFor({ state: "detached" });
    jo.once("dialog", (dialog) => dialog.accept());
    await jo.click(".delete-folder");
    await projects.waitFor({ state: "detached" });
    await jo.locator(".mailbox[data-role=inbox].selected").waitFor();
  });

  test("a JMAP request without the CSRF token is refused; another account's message and blob are refused", async () => {
    const status = await jo.evaluate(async () => {
      const body = JSON.stringify({ using: ["urn:ietf:params:jmap:core"], methodCalls: [["Core/echo", {}, "0"]] });
      const without = await fetch("/jmap/api", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const { csrf } = await (await fetch("/mail/session")).json();
      const headers = { "content-type": "application/json", "x-postern-csrf": csrf };
      const withToken = await fetch("/jmap/api", { method: "POST", headers, body });
      return [without.status, withToken.status];
    });
    expect(status).toEqual([401, 200]);

    // Kim, signed in, asks for Jo's attachment by its URL, with her own account id, and Jo's message by its id.
    const joEmailId = joHtmlEmailId;
    const refused = await kim.evaluate(async ({ url, emailId }) => {
      const { csrf } = await (await fetch("/mail/session")).json();
      const session = await (await fetch("/jmap/session")).json();
      const kimAccount = session.primaryAccounts["urn:ietf:params:jmap:mail"];
      const asKim = url.replace(/^\/jmap\/download\/[^/]+\//, `/jmap/download/${kimAccount}/`);
      const get = await fetch("/jmap/api", {
        method: "POST",
        headers: { "content-type": "application/json", "x-postern-csrf": csrf },
        body: JSON.stringify({
          using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
          methodCalls: [["Email/get", { accountId: kimAccount, ids: [emailId], properties: ["subject"] }, "0"]],
        }),
      });
      return {
        joUrl: (await fetch(url)).status,
        kimUrl: (await fetch(asKim)).status,
        get: (await get.json()).methodResponses[0][1],
      };
    }, { url: joAttachmentUrl, emailId: joEmailId });
    expect(refused.joUrl).toBe(404);
    expect(refused.kimUrl).toBe(404);
    expect(refused.get.list).toEqual([]);
    expect(refused.get.notFound).toEqual([joEmailId]);
  });

  test("settings: vacation reply, a Sieve filter written and activated, an API token, the password", async () => {
    const sam = await newPage();
    await signIn(sam, "sam@example.test", "sam-password");
    await sam.click("button.open-settings");

    await sam.check(".vacation input[name=isEnabled]");
    await sam.fill(".vacation input[name=subject]", "Away this week");
    await sam.fill(".vacation textarea[name=textBody]", "Back on Monday.");
    await sam.click(".vacation button[type=submit]");
    await sam.locator(".vacation [role=status]", { hasText: "Saved." }).waitFor();
    const vacation = (await jmapInPage(sam, [["VacationResponse/get", { ids: ["singleton"] }, "0"]]))[0]![1];
    expect(vacation.list).toEqual([expect.objectContaining({
      isEnabled: true,
      subject: "Away this week",
      textBody: "Back on Monday.",
    })]);

    // A filter that does not compile is refused with the reason; a good one is saved, activated and files mail.
    await sam.click(".filters button.new-script");
    await sam.fill(".script-editor input[name=name]", "reports");
    await sam.fill(".script-editor textarea", 'require ["fileinto"];\nif header :contains "subject" "[report]" {');
    await sam.click(".script-editor button[type=submit]");
    await sam.locator(".script-status", { hasText: "Not saved" }).waitFor();
    await sam.fill(
      ".script-editor textarea",
      'require ["fileinto"];\nif header :contains "subject" "[report]" { fileinto "Archive"; }\n',
    );
    await sam.click(".script-editor button[type=submit]");
    await sam.locator(".script-status", { hasText: "Saved." }).waitFor();
    const script = sam.locator(".filters li", { hasText: "reports" });
    await script.locator("button.activate").click();
    await script.locator(".active").waitFor();
    await sam.locator(".settings-pane").evaluate((pane) => pane.scrollTo(0, 0));
    await sam.screenshot({ path: join(SHOTS, "webmail-settings.png") });
    await smtpSend(
      "From: bot@elsewhere.test\r\nTo: sam@example.test\r\nSubject: [report] nightly\r\n\r\nAll green.\r\n",
      "sam@example.test",
    );
    await sam.click(".mailbox[data-role=archive]");
    await message(sam, "[report] nightly").waitFor();
    await sam.click("button.open-settings");

    // An API token: shown once, opens JMAP, then revoked.
    await sam.fill(".tokens input[name=name]", "laptop");
    await sam.click(".tokens button[type=submit]");
    const token = (await sam.locator(".new-token code").textContent())!;
    const session = () => fetch(`${base}/jmap/session`, { headers: { authorization: `Bearer ${token}` } });
    expect((await session()).status).toBe(200);
    await sam.locator(".tokens li", { hasText: "laptop" }).locator("button", { hasText: "Revoke" }).click();
    await sam.locator(".tokens li", { hasText: "laptop" }).waitFor({ state: "detached" });
    expect((await session()).status).toBe(401);
    // Another account's session cannot revoke through this route without the CSRF token.
    const refused = await jo.evaluate(async () => (await fetch("/mail/account/tokens/1", { method: "DELETE" })).status);
    expect(refused).toBe(401);

    // The password: the current one is checked; the new one ends the session.
    await sam.fill(".password input[name=current]", "not-it");
    await sam.fill(".password input[name=password]", "sam-new-password");
    await sam.fill(".password input[name=repeat]", "sam-new-password");
    await sam.click(".password button[type=submit]");
    await expect(sam.locator(".password [role=alert]").textContent()).resolves.toContain("current password is wrong");
    await sam.fill(".password input[name=current]", "sam-password");
    await sam.click(".password button[type=submit]");
    await sam.locator("input[name=username]").waitFor();
    expect(await sam.evaluate(async () => (await fetch("/mail/session")).status)).toBe(401);
    await signIn(sam, "sam@example.test", "sam-new-password");
  });

  test("admin: sign in with the token, create a domain, see its DNS records, create an account, reset its password, retry a deferred queue item", async () => {
    // Something for the queue: Jo writes to a remote address; the relay does not answer.
    await jo.click(".compose-button");
    await jo.fill(".compose input[name=to]", "far@remote.test");
    await jo.fill(".compose input[name=subject]", "To the outside");
    await jo.click(".compose button[type=submit]");
    await jo.locator(".compose").waitFor({ state: "detached" });

    const admin = await newPage();
    await admin.goto(`${base}/admin/`);
    await admin.fill("input[name=token]", "wrong-token");
    await admin.click("button[type=submit]");
    await expect(admin.locator("[role=alert]").textContent()).resolves.toContain("not valid");
    await admin.fill("input[name=token]", ADMIN_TOKEN);
    await admin.click("button[type=submit]");

    await admin.fill("input[name=name]", "new.test");
    await admin.click("form[aria-label='Add a domain'] button[type=submit]");
    await admin.locator("td", { hasText: "new.test" }).waitFor();
    // What `postern dns new.test` prints.
    await admin.locator("tr", { hasText: "new.test" }).locator("button", { hasText: "DNS records" }).click();
    const records = admin.locator(".dns pre");
    await records.filter({ hasText: "IN MX" }).waitFor();
    const zone = (await records.textContent())!;
    expect(zone).toContain("new.test. 3600 IN MX 10 mx.postern.test.");
    expect(zone).toContain("_dmarc.new.test. 3600 IN TXT");
    expect(zone).toContain('"v=spf1');

    // DKIM: the first key signs at once; a second one waits until activated. Each shows its record.
    const dkim = admin.locator(".dkim");
    await dkim.locator("p", { hasText: "No key yet" }).waitFor();
    await dkim.locator("input[name=selector]").fill("web1");
    await dkim.locator("button[type=submit]").click();
    const web1 = dkim.locator(".dkim-key", { hasText: "web1" });
    await web1.locator(".badge", { hasText: "signs" }).waitFor();
    expect(await web1.locator("pre").textContent()).toMatch(
      /^web1\._domainkey\.new\.test\. 3600 IN TXT "v=DKIM1; k=rsa; p=/,
    );
    await dkim.locator("input[name=selector]").fill("web2");
    await dkim.locator("button[type=submit]").click();
    const web2 = dkim.locator(".dkim-key", { hasText: "web2" });
    await web2.locator("button", { hasText: "Activate" }).click();
    await web2.locator(".badge", { hasText: "signs" }).waitFor();
    await web1.locator("button", { hasText: "Activate" }).waitFor();

    // The DNS check (postern dns check): the MX published in the test's DNS server is found, DMARC is missing.
    mail.dns.add("new.test", { type: "MX", priority: 10, exchange: "mx.postern.test" });
    await admin.click(".dns-check button.run-check");
    const mxRow = admin.locator(".dns-check tr", { hasText: "new.test MX" });
    await expect(mxRow.locator(".badge").textContent()).resolves.toBe("ok");
    await expect(admin.locator(".dns-check tr", { hasText: "_dmarc.new.test TXT" }).locator(".badge").textContent())
      .resolves.toBe("missing");
    await admin.screenshot({ path: join(SHOTS, "admin-dns.png"), fullPage: true });

    await admin.click("button.tab:has-text('Accounts')");
    await admin.fill("input[name=address]", "ana@new.test");
    await admin.fill("input[name=password]", "ana-password");
    await admin.fill("input[name=displayName]", "Ana");
    await admin.click("form[aria-label='Add an account'] button[type=submit]");
    await admin.locator("td", { hasText: "ana@new.test" }).waitFor();
    await admin.screenshot({ path: join(SHOTS, "admin-accounts.png") });
    const accounts = await (await fetch(`${base}/api/v1/accounts`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })).json() as Array<{ address: string }>;
    expect(accounts.map((a) => a.address)).toContain("ana@new.test");

    // A new password from the console; the account signs in to the webmail with it.
    admin.once("dialog", (dialog) => dialog.accept("ana-new-password"));
    await admin.locator("tr", { hasText: "ana@new.test" }).locator("button", { hasText: "Reset password" }).click();
    const ana = await newPage();
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`${base}/mail/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "ana@new.test", password: "ana-new-password" }),
      });
      if (r.status === 200) break;
      await Bun.sleep(100);
    }
    await signIn(ana, "ana@new.test", "ana-new-password");

    await admin.click("button.tab:has-text('Queue')");
    const row = admin.locator("tr", { hasText: "far@remote.test" });
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(/far@remote\.test: (queued|deferred)/);
    await admin.locator("tr", { hasText: "far@remote.test" }).locator("td", { hasText: /deferred/ }).waitFor();
    const before = await queueAttempts();
    await row.locator("button", { hasText: "Retry" }).click();
    for (let i = 0; i < 100 && (await queueAttempts()) === before; i++) await Bun.sleep(100);
    expect(await queueAttempts()).toBeGreaterThan(before);
    expect(await admin.locator("[role=alert]").count()).toBe(0);
    await admin.screenshot({ path: join(SHOTS, "admin-queue.png") });

    // The overview: messages received this hour, the queued message by age, its remote's last reply.
    await admin.click("button.tab:has-text('Overview')");
    const charts = admin.locator(".overview svg");
    await charts.first().waitFor();
    const perHour = (await charts.nth(0).getAttribute("aria-label"))!;
    const thisHour = Number(/(\d+)$/.exec(perHour)![1]);
    expect(thisHour).toBeGreaterThanOrEqual(4);
    expect(Number(await admin.locator(".totals .received").textContent())).toBe(thisHour);
    // Jo's message to far@remote.test, and Sam's vacation reply to the bot: both just queued.
    expect(await charts.nth(1).getAttribute("aria-label")).toContain("(2 message(s)): < 5 min 2,");
    await expect(admin.locator(".totals .deliveries").textContent()).resolves.toMatch(/deferred: [1-9]/);
    const recent = admin.locator(".recent tr", { hasText: "far@remote.test" });
    await expect(recent.textContent()).resolves.toContain("jo@example.test");
    await admin.screenshot({ path: join(SHOTS, "admin-overview.png"), fullPage: true });
  });

  test("keyboard: j/k move through the list, s flags, c composes", async () => {
    await jo.click(".mailbox[data-role=sent]");
    await message(jo, "To the outside").waitFor();
    await jo.locator(".box-title").click();
    const subject = jo.locator(".reader h2.subject");
    await jo.keyboard.press("j");
    await expect(subject.textContent()).resolves.toBe("To the outside");
    await jo.keyboard.press("j");
    await expect(subject.textContent()).resolves.toBe("Fwd: Minutes of the meeting");
    await jo.keyboard.press("k");
    await expect(subject.textContent()).resolves.toBe("To the outside");
    await jo.keyboard.press("s");
    await message(jo, "To the outside").locator(".flagged").waitFor();
    await jo.keyboard.press("c");
    await jo.locator(".compose").waitFor();
    // Typing in a field is typing, not a shortcut.
    await jo.fill(".compose input[name=subject]", "");
    await jo.type(".compose input[name=subject]", "jkcs");
    expect(await jo.inputValue(".compose input[name=subject]")).toBe("jkcs");
    await jo.click(".compose button:has-text('Discard')");
    await jo.locator(".compose").waitFor({ state: "detached" });

    // A draft left by going elsewhere stays in Drafts, opens again with Edit draft, and Discard removes it.
    await jo.keyboard.press("c");
    await jo.fill(".compose input[name=subject]", "Unfinished thoughts");
    await jo.fill(".compose textarea[name=text]", "To be continued");
    await jo.locator(".compose .draft-status", { hasText: "Draft saved" }).waitFor();
    await jo.click(".mailbox[data-role=drafts]");
    await message(jo, "Unfinished thoughts").click();
    await jo.click(".reader button.edit-draft");
    expect(await jo.inputValue(".compose input[name=subject]")).toBe("Unfinished thoughts");
    expect(await jo.inputValue(".compose textarea[name=text]")).toBe("To be continued");
    await jo.click(".compose button:has-text('Discard')");
    await message(jo, "Unfinished thoughts").waitFor({ state: "detached" });
    expect(await drafts(jo)).toEqual([]);
  });

  test(`${BULK} messages in a folder: conversations collapsed with a count; each page renders within ${LIST_MS} ms`, async () => {
    // Appended through the store (as bench/api.ts seeds), not one SMTP session each; the newest three are one
    // conversation. The folder itself is made through JMAP.
    const api = await jmapSession(mail, "jo@example.test", "jo-password");
    await api.call("Mailbox/set", { create: { bulk: { name: "Bulk" } } });
    const store = await Store.open({ url: `file:${join(mail.dataDir, "postern.db")}` });
    try {
      const account = (await store.accounts.get("jo@example.test"))!;
      const bulk = (await store.mailboxes.byName(account.id, "Bulk"))!;
      const start = Date.parse("2026-01-01T00:00:00Z");
      for (let from = 0; from < BULK; from += 250) {
        await Promise.all(Array.from({ length: 250 }, (_, k) => {
          const i = from + k;
          const thread = i >= BULK - 3;
          const subject = thread ? (i === BULK - 3 ? "Bulk thread" : "Re: Bulk thread") : `Bulk message ${i}`;
          const raw = new TextEncoder().encode(
            `From: Sender ${i} <s${i}@elsewhere.test>\r\nTo: jo@example.test\r\nSubject: ${subject}\r\n` +
              `Message-ID: <bulk-${i}@elsewhere.test>\r\n` +
              (thread && i > BULK - 3 ? `References: <bulk-${BULK - 3}@elsewhere.test>\r\n` : "") +
              `\r\nMessage number ${i}.\r\n`,
          );
          return store.mail.append({
            accountId: account.id,
            mailboxId: bulk.id,
            raw,
            flags: ["\\Seen"],
            receivedAt: new Date(start + i * 60_000),
            checkQuota: false,
          });
        }));
      }
    } finally {
      store.close();
    }

    const started = performance.now();
    await jo.click(".mailbox:has-text('Bulk')");
    await jo.locator(".pager", { hasText: `1–50 of ${BULK - 2}` }).waitFor();
    expect(await jo.locator(".messages .message").count()).toBe(50);
    const firstPage = performance.now() - started;
    expect(firstPage).toBeLessThan(LIST_MS);
    // The conversation is one row, the newest reply, with its count.
    const thread = message(jo, "Re: Bulk thread");
    await expect(thread.count()).resolves.toBe(1);
    await expect(thread.locator(".count").textContent()).resolves.toBe("3");
    await jo.screenshot({ path: join(SHOTS, "webmail-conversations.png") });

    const older = performance.now();
    await jo.click(".pager button:has-text('Older')");
    await jo.locator(".pager", { hasText: `51–100 of ${BULK - 2}` }).waitFor();
    await message(jo, `Bulk message ${BULK - 53}`).waitFor();
    expect(performance.now() - older).toBeLessThan(LIST_MS);

    // Not collapsed: all three messages, and every message counted.
    await jo.uncheck(".collapse-threads input");
    await jo.locator(".pager", { hasText: `1–50 of ${BULK}` }).waitFor();
    await expect(message(jo, "Bulk thread").count()).resolves.toBe(3);
    await jo.check(".collapse-threads input");
    console.log(`${BULK} messages: first page in ${Math.round(firstPage)} ms`);
  });
});

/** JMAP method calls from a signed-in page (its cookie and CSRF token); `accountId` is filled in. */
async function jmapInPage(page: Page, calls: unknown[]): Promise<Array<[string, Record<string, unknown>, string]>> {
  return await page.evaluate(async (calls) => {
    const { csrf } = await (await fetch("/mail/session")).json();
    const session = await (await fetch("/jmap/session")).json();
    const accountId = session.primaryAccounts["urn:ietf:params:jmap:mail"];
    const response = await fetch("/jmap/api", {
      method: "POST",
      headers: { "content-type": "application/json", "x-postern-csrf": csrf },
      body: JSON.stringify({
        using: Object.keys(session.capabilities),
        methodCalls: (calls as Array<[string, Record<string, unknown>, string]>).map((
          [name, args, id],
        ) => [name, { accountId, ...args }, id]),
      }),
    });
    return (await response.json()).methodResponses;
  }, calls);
}

/** A page's Drafts: subject, keywords and text of each. */
async function draftEmails(
  page: Page,
): Promise<Array<{ subject: string; keywords: Record<string, boolean>; text: string }>> {
  const boxes = (await jmapInPage(page, [["Mailbox/get", { properties: ["role"] }, "0"]]))[0]![1];
  const drafts = (boxes.list as Array<{ id: string; role: string }>).find((m) => m.role === "drafts")!.id;
  const got = (await jmapInPage(page, [
    ["Email/query", { filter: { inMailbox: drafts } }, "q"],
    ["Email/get", {
      "#ids": { resultOf: "q", name: "Email/query", path: "/ids" },
      properties: ["subject", "keywords", "textBody", "bodyValues"],
      fetchTextBodyValues: true,
    }, "g"],
  ]))[1]![1];
  type Got = { subject: string; keywords: Record<string, boolean>; bodyValues: Record<string, { value: string }> };
  return (got.list as Got[]).map((e) => ({
    subject: e.subject,
    keywords: e.keywords,
    text: Object.values(e.bodyValues).map((v) => v.value).join(""),
  }));
}

const drafts = async (page: Page) =>
  (await draftEmails(page)).map((e) => ({ subject: e.subject, draft: !!e.keywords.$draft }));
const draftTexts = async (page: Page) => (await draftEmails(page)).map((e) => e.text);

async function queueAttempts(): Promise<number> {
  const queue = await (await fetch(`${base}/api/v1/queue`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })).json() as Array<{ recipients: Array<{ recipient: string; attempts: number }> }>;
  return queue.flatMap((m) => m.recipients).find((r) => r.recipient === "far@remote.test")?.attempts ?? 0;
}
