/**
 * The webmail in Chromium, writing (issue 22): compose with an attachment to a second account, her reply joining the
 * thread, forward with the attachments, address completion, drafts saved while writing, reply all, the keyboard
 * shortcuts. See ./helpers.ts.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { runtime } from "../helpers/runtime.ts";
import {
  attachmentBytes,
  compose,
  downloadBytes,
  drafts,
  draftTexts,
  haveChromium,
  message,
  SHOTS,
  useWeb,
} from "./helpers.ts";

const web = useWeb();
let jo: Page;
let kim: Page;

describe.skipIf(!haveChromium)(`webmail in Chromium: compose and threads (server on ${runtime()})`, () => {
  test("compose with an attachment to Kim; her webmail shows it byte-identical; her reply joins the thread", async () => {
    jo = await web.newPage();
    await web.signIn(jo, "jo@example.test", "jo-password");
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

    kim = await web.newPage();
    await web.signIn(kim, "kim@example.test", "kim-password");
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
    await web.smtpSend(
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

  test("keyboard: j/k move through the list, s flags, c composes", async () => {
    await compose(jo, "far@remote.test", "To the outside");
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
});
