/**
 * The webmail in Chromium, managing mail (issue 22): flag, search, move, delete, spam, folders; the settings (vacation
 * reply, Sieve filters, API tokens, password). See ./helpers.ts; a large folder is in ./mail-large.test.ts.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { runtime } from "../helpers/runtime.ts";
import { haveChromium, htmlWithAttachment, jmapInPage, message, plainMessage, SHOTS, useWeb } from "./helpers.ts";

const web = useWeb();
let jo: Page;

describe.skipIf(!haveChromium)(`webmail in Chromium: managing mail (server on ${runtime()})`, () => {
  test("flag, search, move, delete, spam; create a folder and delete it", async () => {
    const to = "jo@example.test";
    await web.smtpSend(plainMessage("Kim <kim@example.test>", to, "Re: Minutes of the meeting", "Thanks."), to);
    await web.smtpSend(htmlWithAttachment(to, "HTML with a script", "<p>Hello in <b>HTML</b>.</p>"), to);
    await web.smtpSend(plainMessage("Sam <sender@elsewhere.test>", to, "Hello from SMTP", "Plain words."), to);
    jo = await web.newPage();
    await web.signIn(jo, "jo@example.test", "jo-password");
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

  test("settings: vacation reply, a Sieve filter written and activated, an API token, the password", async () => {
    const sam = await web.newPage();
    await web.signIn(sam, "sam@example.test", "sam-password");
    await sam.click("button.open-settings");

    await sam.check(".vacation input[name=isEnabled]");
    await sam.fill(".vacation input[name=subject]", "Away this week");
    await sam.fill(".vacation textarea[name=textBody]", "Back on Monday.");
    // From and until, in the browser's time zone; over JMAP they are UTCDates (RFC 8621 §8).
    await sam.fill(".vacation input[name=fromDate]", "2030-01-02T09:00");
    await sam.fill(".vacation input[name=toDate]", "2030-01-09T18:30");
    await sam.click(".vacation button[type=submit]");
    await sam.locator(".vacation [role=status]", { hasText: "Saved." }).waitFor();
    const [fromDate, toDate] = await sam.evaluate(() =>
      ["2030-01-02T09:00", "2030-01-09T18:30"].map((d) => new Date(d).toISOString().replace(".000Z", "Z"))
    );
    const vacation = (await jmapInPage(sam, [["VacationResponse/get", { ids: ["singleton"] }, "0"]]))[0]![1];
    expect(vacation.list).toEqual([expect.objectContaining({
      isEnabled: true,
      subject: "Away this week",
      textBody: "Back on Monday.",
      fromDate,
      toDate,
    })]);
    // Shown again after a reload; emptied, they are null.
    await sam.reload();
    await sam.click("button.open-settings");
    await expect(sam.locator(".vacation input[name=fromDate]").inputValue()).resolves.toBe("2030-01-02T09:00");
    await expect(sam.locator(".vacation input[name=toDate]").inputValue()).resolves.toBe("2030-01-09T18:30");
    await sam.fill(".vacation input[name=toDate]", "");
    await sam.click(".vacation button[type=submit]");
    await sam.locator(".vacation [role=status]", { hasText: "Saved." }).waitFor();
    const cleared = (await jmapInPage(sam, [["VacationResponse/get", { ids: ["singleton"] }, "0"]]))[0]![1];
    expect(cleared.list).toEqual([expect.objectContaining({ fromDate, toDate: null })]);

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
    await web.smtpSend(
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
    const session = () => fetch(`${web.base}/jmap/session`, { headers: { authorization: `Bearer ${token}` } });
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
    await web.signIn(sam, "sam@example.test", "sam-new-password");
  });
});
