/**
 * Empty Trash in Chromium (issue 22): after a confirm, every email in Trash goes, a page at a time; one only in Trash
 * is destroyed, one also in another mailbox only leaves Trash (RFC 8621 §4.6 mailboxIds patch) and stays there.
 */
import { describe, expect, test } from "bun:test";
import { jmapSession } from "../helpers/jmap.ts";
import { runtime } from "../helpers/runtime.ts";
import { haveChromium, messageRow, useMailBrowser } from "./mail-browser.ts";

const web = useMailBrowser({ users: { "jo@example.test": "jo-password" } });

const raw = (subject: string) =>
  `From: Lee <lee@elsewhere.test>\r\nTo: jo@example.test\r\nSubject: ${subject}\r\n` +
  `Message-ID: <${subject.replace(/\W/g, "")}@elsewhere.test>\r\n\r\nAbout ${subject}.\r\n`;

describe.skipIf(!haveChromium)(`Empty Trash in Chromium (server on ${runtime()})`, () => {
  test("Empty Trash destroys what is only in Trash; a message also in Archive stays there", async () => {
    for (const subject of ["Old news", "Keep in archive", "Still in inbox"]) {
      await web.smtpSend(raw(subject), "jo@example.test");
    }
    const page = await web.newPage();
    await web.signIn(page, "jo@example.test", "jo-password");
    await messageRow(page, "Still in inbox").waitFor();
    // One deleted from the list (to Trash); another put in Trash and Archive both by another client.
    await messageRow(page, "Old news").click();
    await page.click(".reader button.delete");
    await messageRow(page, "Old news").waitFor({ state: "detached" });
    const api = await jmapSession(web.mail, "jo@example.test", "jo-password");
    const roles = await api.roles();
    const { ids } = await api.call("Email/query", { filter: { text: "Keep in archive" } }) as { ids: string[] };
    expect(ids.length).toBe(1);
    await api.call("Email/set", {
      update: { [ids[0]!]: { mailboxIds: { [roles.trash!]: true, [roles.archive!]: true } } },
    });
    const { ids: old } = await api.call("Email/query", { filter: { text: "Old news" } }) as { ids: string[] };

    await page.click(".mailbox[data-role=trash]");
    await messageRow(page, "Keep in archive").waitFor();
    await messageRow(page, "Old news").waitFor();
    // Cancelled at the confirm: nothing goes.
    page.once("dialog", (dialog) => dialog.dismiss());
    await page.click(".empty-mailbox");
    expect(await page.locator(".messages .message").count()).toBe(2);
    page.once("dialog", (dialog) => {
      expect(dialog.message()).toContain("Trash");
      dialog.accept();
    });
    await page.click(".empty-mailbox");
    await messageRow(page, "Old news").waitFor({ state: "detached" });
    await messageRow(page, "Keep in archive").waitFor({ state: "detached" });
    await page.locator(".empty-mailbox").waitFor({ state: "detached" });

    const trash = await api.call("Email/query", { filter: { inMailbox: roles.trash } }) as { ids: string[] };
    expect(trash.ids).toEqual([]);
    const got = await api.call("Email/get", { ids: [...ids, ...old], properties: ["mailboxIds"] }) as {
      list: Array<{ id: string; mailboxIds: Record<string, boolean> }>;
      notFound: string[];
    };
    expect(got.list).toEqual([{ id: ids[0]!, mailboxIds: { [roles.archive!]: true } }]);
    expect(got.notFound).toEqual(old);
    await page.click(".mailbox[data-role=archive]");
    await messageRow(page, "Keep in archive").waitFor();
    expect(await page.locator(".empty-mailbox").count()).toBe(0);
    await page.click(".mailbox[data-role=inbox]");
    await messageRow(page, "Still in inbox").waitFor();
  });
});
