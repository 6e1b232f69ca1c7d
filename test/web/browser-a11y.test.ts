/**
 * Accessibility of the webmail and the admin console (issue 22): axe-core, run in Chromium on each main view, finds no
 * serious or critical problem (names of controls, contrast at WCAG AA, roles, labels); the keyboard reaches the
 * controls in the page's order, and the focused one is visibly outlined. See ./helpers.ts.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { runtime } from "../helpers/runtime.ts";
import { axeProblems, compose, haveChromium, htmlWithAttachment, message, signInWithToken, useWeb } from "./helpers.ts";

const web = useWeb();

/** The view's problems, named by the view, so a failure says where. */
async function problems(page: Page, view: string) {
  return (await axeProblems(page)).map((p) => ({ view, ...p }));
}

describe.skipIf(!haveChromium)(`accessibility in Chromium (server on ${runtime()})`, () => {
  test("webmail: sign-in, the inbox, a message, compose and settings have no serious or critical axe problem", async () => {
    await web.smtpSend(
      htmlWithAttachment("jo@example.test", "Report attached", "<p>See <b>attached</b>.</p>"),
      "jo@example.test",
    );
    const page = await web.newPage({ bypassCSP: true });
    await page.goto(`${web.base}/mail/`);
    await page.locator("input[name=username]").waitFor();
    const found = await problems(page, "sign-in");
    await web.signIn(page, "jo@example.test", "jo-password");
    await message(page, "Report attached").waitFor();
    found.push(...await problems(page, "inbox"));
    await message(page, "Report attached").click();
    await page.locator(".reader .attachments a").waitFor();
    found.push(...await problems(page, "message"));
    await page.click(".compose-button");
    await page.locator(".compose").waitFor();
    found.push(...await problems(page, "compose"));
    await page.click(".compose button:has-text('Discard')");
    await page.click("button.open-settings");
    await page.locator(".settings-pane .vacation").waitFor();
    found.push(...await problems(page, "settings"));
    expect(found).toEqual([]);
  });

  test("admin console: sign-in and every section have no serious or critical axe problem", async () => {
    const jo = await web.newPage();
    await web.signIn(jo, "jo@example.test", "jo-password");
    await compose(jo, "far@remote.test", "To the outside");
    const page = await web.newPage({ bypassCSP: true });
    await page.goto(`${web.base}/admin/`);
    await page.locator("input[name=token]").waitFor();
    const found = await problems(page, "sign-in");
    await signInWithToken(page, web.base);
    for (const section of ["Domains", "Accounts", "Aliases", "Queue", "Overview", "Activity"]) {
      await page.click(`button.tab:has-text('${section}')`);
      await page.locator("main section").first().waitFor();
      await page.waitForLoadState("networkidle");
      found.push(...await problems(page, section));
    }
    await page.click("button.tab:has-text('Domains')");
    await page.locator("tr", { hasText: "example.test" }).locator("button", { hasText: "DNS records" }).click();
    await page.locator(".dkim").waitFor();
    await page.click(".dns-check button.run-check");
    await page.locator(".dns-check table").waitFor();
    found.push(...await problems(page, "DNS records"));
    expect(found).toEqual([]);
  });

  test("keyboard: Tab goes through the controls in the page's order, each visibly outlined", async () => {
    const page = await web.newPage();
    await web.signIn(page, "jo@example.test", "jo-password");
    const webmail = await tabThrough(page, 20);
    expect(webmail.map((f) => f.label)).toEqual(expect.arrayContaining(["Search mail", "Compose", "Inbox"]));
    const admin = await web.newPage();
    await signInWithToken(admin, web.base);
    await admin.locator("td", { hasText: "example.test" }).waitFor();
    const console = await tabThrough(admin, 12);
    expect(console.map((f) => f.label)).toEqual(expect.arrayContaining(["Domains", "Domain name", "DNS records"]));
    // Any control reached out of the page's order, or without a visible outline, is named here.
    expect([...webmail, ...console].filter((f) => !f.outlined || f.order < 0)).toEqual([]);
  });
});

/**
 * Presses Tab up to `times` from the top of the page; for each control it reaches: its name, whether it is outlined,
 * and whether it comes after the one before in the document (1) or not (-1).
 */
async function tabThrough(page: Page, times: number) {
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.evaluate(() => globalThis.scrollTo(0, 0));
  const reached: Array<{ label: string; outlined: boolean; order: number }> = [];
  for (let i = 0; i < times; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate(() => {
      const w = globalThis as unknown as { lastFocused?: Element };
      const e = document.activeElement;
      // Past the last control the focus leaves the page.
      if (!e || e === document.body) return null;
      const style = getComputedStyle(e);
      const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
      const order = !w.lastFocused || w.lastFocused.compareDocumentPosition(e) & Node.DOCUMENT_POSITION_FOLLOWING
        ? 1
        : -1;
      w.lastFocused = e;
      const label = e.getAttribute("aria-label") || (e as HTMLInputElement).labels?.[0]?.textContent ||
        e.textContent || "";
      return { label: label.trim().replace(/\s*\d+$/, ""), outlined, order };
    });
    if (!focused) break;
    reached.push(focused);
  }
  return reached;
}
