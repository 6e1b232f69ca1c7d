/**
 * The webmail and the admin console on a phone-sized screen, 390×844 (issue 22): no page wider than the screen; the
 * webmail's folders are a menu, an open message or the compose form takes the screen with a way back, and mail is
 * written and sent there; the console's sections are all in reach and its tables scroll within themselves; axe-core finds
 * no serious or critical problem at this size either. See ./helpers.ts.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { runtime } from "../helpers/runtime.ts";
import {
  axeProblems,
  haveChromium,
  htmlWithAttachment,
  message,
  PHONE,
  SHOTS,
  signInWithToken,
  useWeb,
} from "./helpers.ts";

const web = useWeb();

/** The page scrolls sideways: something is wider than the screen. */
const tooWide = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth > globalThis.innerWidth);
const widthOf = async (page: Page, selector: string) => (await page.locator(selector).boundingBox())?.width ?? 0;

describe.skipIf(!haveChromium)(`a phone-sized screen in Chromium (server on ${runtime()})`, () => {
  test("webmail: folders in a menu; a message and the compose form take the screen; a message is sent", async () => {
    await web.smtpSend(
      htmlWithAttachment("jo@example.test", "Quarterly report", "<h1>Quarterly report</h1><p>Numbers are up.</p>"),
      "jo@example.test",
    );
    // bypassCSP: axe-core is injected as an inline script (see axeProblems).
    const jo = await web.newPage({ viewport: PHONE, isMobile: true, hasTouch: true, bypassCSP: true });
    await web.signIn(jo, "jo@example.test", "jo-password");
    await message(jo, "Quarterly report").waitFor();
    expect(await tooWide(jo)).toBe(false);
    // The list has the screen; the folders wait behind the menu button.
    expect(await widthOf(jo, ".list-pane")).toBe(PHONE.width);
    expect(await jo.locator(".mailbox[data-role=sent]").isVisible()).toBe(false);
    const menu = jo.locator("button.menu-button");
    expect(await menu.getAttribute("aria-expanded")).toBe("false");
    await menu.click();
    expect(await menu.getAttribute("aria-expanded")).toBe("true");
    expect(await jo.locator(".list-pane").isVisible()).toBe(false);
    expect(await axeProblems(jo)).toEqual([]);
    await jo.click(".mailbox[data-role=sent]");
    await jo.locator(".box-title", { hasText: "Sent" }).waitFor();
    expect(await jo.locator(".mailbox[data-role=sent]").isVisible()).toBe(false);
    await menu.click();
    await jo.click(".mailbox[data-role=inbox]");

    // A message takes the screen; Back returns to the list.
    await message(jo, "Quarterly report").click();
    await expect(jo.frameLocator("iframe.body-html").locator("h1").textContent()).resolves.toBe("Quarterly report");
    expect(await jo.locator(".list-pane").isVisible()).toBe(false);
    expect(await widthOf(jo, ".read-pane")).toBe(PHONE.width);
    expect(await widthOf(jo, "iframe.body-html")).toBeGreaterThan(PHONE.width - 40);
    expect(await tooWide(jo)).toBe(false);
    expect(await axeProblems(jo)).toEqual([]);
    await jo.screenshot({ path: join(SHOTS, "webmail-phone-message.png") });
    await jo.click("button.back");
    await message(jo, "Quarterly report").waitFor();
    await jo.screenshot({ path: join(SHOTS, "webmail-phone.png") });

    // Compose from the floating button, the form as wide as the screen; the message reaches Kim.
    await jo.click(".compose-button");
    await jo.locator(".compose").waitFor();
    expect(await jo.locator(".compose-button").isVisible()).toBe(false);
    expect(await widthOf(jo, ".compose textarea[name=text]")).toBeGreaterThan(PHONE.width - 40);
    expect(await tooWide(jo)).toBe(false);
    await jo.fill(".compose input[name=to]", "kim@example.test");
    await jo.fill(".compose input[name=subject]", "Written on a phone");
    await jo.fill(".compose textarea[name=text]", "Short and sweet.");
    await jo.click(".compose button[type=submit]");
    await jo.locator(".compose").waitFor({ state: "detached" });
    const kim = await web.newPage({ viewport: PHONE, isMobile: true, hasTouch: true });
    await web.signIn(kim, "kim@example.test", "kim-password");
    await message(kim, "Written on a phone").click();
    await expect(kim.locator(".reader .body-text").textContent()).resolves.toContain("Short and sweet.");

    // Settings have the screen too.
    await kim.click("button.open-settings");
    await kim.locator(".settings-pane .vacation").waitFor();
    expect(await widthOf(kim, ".settings-pane")).toBe(PHONE.width);
    expect(await tooWide(kim)).toBe(false);
  });

  test("admin console: every section in reach, tables scroll within themselves, a row's buttons work", async () => {
    const admin = await web.newPage({ viewport: PHONE, isMobile: true, hasTouch: true, bypassCSP: true });
    await admin.goto(`${web.base}/admin/`);
    expect(await tooWide(admin)).toBe(false);
    await signInWithToken(admin, web.base);
    await admin.locator("td", { hasText: "example.test" }).waitFor();
    for (const tab of await admin.locator("button.tab").all()) {
      const box = (await tab.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(PHONE.width);
    }
    await admin.click("button.tab:has-text('Accounts')");
    const row = admin.locator("tr", { hasText: "sam@example.test" });
    await row.waitFor();
    expect(await tooWide(admin)).toBe(false);
    const region = admin.locator(".table-scroll");
    expect(await region.evaluate((e) => e.scrollWidth > e.clientWidth)).toBe(true);
    expect(await axeProblems(admin)).toEqual([]);
    await admin.screenshot({ path: join(SHOTS, "admin-phone.png") });
    await row.locator("button", { hasText: "Make admin" }).click();
    await row.locator(".badge", { hasText: "admin" }).waitFor();
    expect(await region.evaluate((e) => e.scrollLeft)).toBeGreaterThan(0);
    await admin.click("button.tab:has-text('Overview')");
    await admin.locator(".overview svg").first().waitFor();
    expect(await tooWide(admin)).toBe(false);
  });
});
