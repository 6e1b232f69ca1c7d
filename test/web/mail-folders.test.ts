/**
 * The webmail's folders in Chromium (issue 22): a folder renamed (JMAP Mailbox/set update) shows its new name at
 * once, in this tab and live in another; a message dragged from the list onto a folder in the sidebar moves there,
 * a collapsed conversation with all of its messages in the mailbox, and the move by the keyboard-reachable menu
 * still works.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { jmapSession } from "../helpers/jmap.ts";
import { runtime } from "../helpers/runtime.ts";
import { haveChromium, type MailBrowser, messageRow, startMailBrowser } from "./mail-browser.ts";

let web: MailBrowser;
let page: Page;

beforeAll(async () => {
  if (!haveChromium) return;
  web = await startMailBrowser({ users: { "jo@example.test": "jo-password" } });
}, 90_000);

afterAll(async () => {
  await web?.stop();
}, 30_000);

const raw = (subject: string, id: string, references = "") =>
  `From: Lee <lee@elsewhere.test>\r\nTo: jo@example.test\r\nSubject: ${subject}\r\nMessage-ID: <${id}@elsewhere.test>\r\n` +
  (references ? `References: <${references}@elsewhere.test>\r\n` : "") + `\r\nAbout ${subject}.\r\n`;

describe.skipIf(!haveChromium)(`webmail folders in Chromium (server on ${runtime()})`, () => {
  test("a folder is renamed; the list shows the new name without reload, in another tab too", async () => {
    page = await web.newPage();
    await web.signIn(page, "jo@example.test", "jo-password");
    const other = await web.newPage();
    await web.signIn(other, "jo@example.test", "jo-password");
    page.once("dialog", (dialog) => dialog.accept("Projects"));
    await page.click(".new-folder");
    await page.click(".mailbox:has-text('Projects')");
    // A special-use mailbox cannot be renamed: no button there.
    expect(await page.locator(".rename-folder").count()).toBe(1);
    page.once("dialog", (dialog) => {
      expect(dialog.defaultValue()).toBe("Projects");
      dialog.accept("Projects 2027");
    });
    await page.click(".rename-folder");
    await page.locator(".mailbox .name", { hasText: "Projects 2027" }).waitFor();
    await expect(page.locator(".box-title").textContent()).resolves.toBe("Projects 2027");
    // The other tab learns of it through the JMAP EventSource.
    await other.locator(".mailbox .name", { hasText: "Projects 2027" }).waitFor();
    const api = await jmapSession(web.mail, "jo@example.test", "jo-password");
    const { list } = await api.call("Mailbox/get", { properties: ["name"] }) as { list: Array<{ name: string }> };
    expect(list.map((m) => m.name)).toContain("Projects 2027");
    expect(list.map((m) => m.name)).not.toContain("Projects");
    // A name another folder has is refused with the server's reason, and the folder keeps its name.
    page.once("dialog", (dialog) => dialog.accept("Archive"));
    await page.click(".rename-folder");
    await expect(page.locator("[role=alert]").textContent()).resolves.toContain("A mailbox of that name exists");
    await page.click("[role=alert] button");
    await expect(page.locator(".box-title").textContent()).resolves.toBe("Projects 2027");
    await page.click(".mailbox[data-role=inbox]");
    expect(await page.locator(".rename-folder").count()).toBe(0);
  });

  test("dragging a message onto a folder moves it; a collapsed conversation moves whole", async () => {
    await web.smtpSend(raw("Drag me", "drag-1"), "jo@example.test");
    await web.smtpSend(raw("Talk", "talk-1"), "jo@example.test");
    await web.smtpSend(raw("Re: Talk", "talk-2", "talk-1"), "jo@example.test");
    await messageRow(page, "Drag me").waitFor();
    await messageRow(page, "Re: Talk").waitFor();
    const projects = page.locator(".mailbox", { hasText: "Projects 2027" });
    await messageRow(page, "Drag me").dragTo(projects);
    await messageRow(page, "Drag me").waitFor({ state: "detached" });
    // Conversations are collapsed: the row is the newest reply, and both messages go.
    await messageRow(page, "Re: Talk").dragTo(projects);
    await messageRow(page, "Re: Talk").waitFor({ state: "detached" });
    await projects.click();
    await messageRow(page, "Drag me").waitFor();
    await page.uncheck(".collapse-threads input");
    await messageRow(page, "Re: Talk").waitFor();
    await page.locator(".messages .message .subject", { hasText: /^Talk$/ }).waitFor();
    // Dropping on the mailbox shown does nothing.
    await messageRow(page, "Drag me").dragTo(page.locator(".mailbox.selected"));
    expect(await page.locator(".messages .message").count()).toBe(3);
    // The move by the menu still works (reachable by keyboard: Tab to it, arrows to choose).
    await messageRow(page, "Drag me").click();
    await page.selectOption(".reader select.move", { label: "Inbox" });
    await messageRow(page, "Drag me").waitFor({ state: "detached" });
    await page.click(".mailbox[data-role=inbox]");
    await messageRow(page, "Drag me").waitFor();
    await page.check(".collapse-threads input");
  });
});
