/**
 * A large folder in the webmail (issue 22): virtual scrolling — only the rows in view (and a few around them) are in
 * the DOM, whatever the folder's size; the rest come a window of 50 at a time as the list scrolls — with conversations
 * collapsed (the store's index path for `collapseThreads`, src/store/thread-page.ts) and each one's count. The
 * messages are appended through the store (as bench/collapsed-threads.ts seeds), not one SMTP session each.
 * 100,000 messages are measured by bench/collapsed-threads.ts, not here; the time limits below are generous.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { Store } from "../../src/store/store.ts";
import { jmapSession } from "../helpers/jmap.ts";
import { runtime } from "../helpers/runtime.ts";
import { haveChromium, message, PHONE, SHOTS, useWeb } from "./helpers.ts";

const web = useWeb();
/** Messages in the folder; the newest three are one conversation. */
const BULK = 3000;
/** The time a view of the list must show within (generous: a shared CI machine). */
const LIST_MS = 3000;
/** At most this many rows in the DOM: a view of 760 px holds about ten. */
const MAX_ROWS = 40;
let jo: Page;

async function seed() {
  const api = await jmapSession(web.mail, "jo@example.test", "jo-password");
  await api.call("Mailbox/set", { create: { bulk: { name: "Bulk" } } });
  const store = await Store.open({ url: `file:${join(web.mail.dataDir, "postern.db")}` });
  try {
    const account = (await store.accounts.get("jo@example.test"))!;
    const bulk = (await store.mailboxes.byName(account.id, "Bulk"))!;
    const start = Date.parse("2026-01-01T00:00:00Z");
    const append = (i: number) => {
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
    };
    for (let from = 0; from < BULK - 3; from += 500) {
      await Promise.all(Array.from({ length: Math.min(500, BULK - 3 - from) }, (_, k) => append(from + k)));
    }
    // The conversation's first message before its replies, which find their thread by it.
    for (let i = BULK - 3; i < BULK; i++) await append(i);
  } finally {
    store.close();
  }
}

const rowsInDom = (page: Page) => page.locator(".messages li").count();
const scrollTo = (page: Page, top: number | "end") =>
  page.locator(".messages").evaluate((el, top) => {
    el.scrollTop = top === "end" ? el.scrollHeight : top;
  }, top);
/** The pager's "first–last of total" of the rows in view. */
const shown = async (page: Page) => {
  const [, first, last, total] = /(\d+)–(\d+) of (\d+)/.exec((await page.locator(".pager span").textContent())!)!;
  return { first: Number(first), last: Number(last), total: Number(total) };
};

describe.skipIf(!haveChromium)(`webmail in Chromium: a large folder (server on ${runtime()})`, () => {
  test(`${BULK} messages: conversations collapsed with a count; only the rows in view are in the DOM`, async () => {
    await seed();
    jo = await web.newPage();
    await web.signIn(jo, "jo@example.test", "jo-password");
    const started = performance.now();
    await jo.click(".mailbox:has-text('Bulk')");
    await jo.locator(".pager", { hasText: `of ${BULK - 2}` }).waitFor();
    await message(jo, "Re: Bulk thread").waitFor();
    const firstView = performance.now() - started;
    expect(firstView).toBeLessThan(LIST_MS);
    expect((await shown(jo)).first).toBe(1);
    expect(await rowsInDom(jo)).toBeLessThan(MAX_ROWS);
    // The list is as tall as all its rows.
    const height = await jo.locator(".messages ul").evaluate((el) => el.getBoundingClientRect().height);
    expect(height).toBe((BULK - 2) * 76);
    // The conversation is one row, the newest reply, with its count.
    await expect(message(jo, "Re: Bulk thread").count()).resolves.toBe(1);
    await expect(message(jo, "Re: Bulk thread").locator(".count").textContent()).resolves.toBe("3");
    await jo.screenshot({ path: join(SHOTS, "webmail-conversations.png") });

    // The end of the list: the oldest message, still only a view's rows.
    let at = performance.now();
    await scrollTo(jo, "end");
    await message(jo, "Bulk message 0").waitFor();
    expect(performance.now() - at).toBeLessThan(LIST_MS);
    expect(await rowsInDom(jo)).toBeLessThan(MAX_ROWS);
    expect((await shown(jo)).last).toBe(BULK - 2);
    await message(jo, "Re: Bulk thread").waitFor({ state: "detached" });

    // The middle: position p (from 0) of the collapsed list is "Bulk message (BULK - 3 - p)" for p ≥ 1.
    at = performance.now();
    await scrollTo(jo, 2000 * 76);
    await message(jo, `Bulk message ${BULK - 3 - 2000}`).waitFor();
    expect(performance.now() - at).toBeLessThan(LIST_MS);
    expect((await shown(jo)).first).toBe(2001);
    // Older scrolls by a view.
    const before = await shown(jo);
    await jo.click(".pager button:has-text('Older')");
    await jo.waitForFunction(
      (first) => !document.querySelector(".pager span")!.textContent!.startsWith(`${first}–`),
      before.first,
    );
    const after = await shown(jo);
    expect(after.first).toBeGreaterThan(before.first);
    await message(jo, `Bulk message ${BULK - 3 - (after.first - 1)}`).waitFor();
    console.log(`${BULK} messages: first view in ${Math.round(firstView)} ms`);
  }, 120_000);

  test("not collapsed: every message counted; j moves down the list and it follows", async () => {
    await scrollTo(jo, 0);
    await jo.uncheck(".collapse-threads input");
    await jo.locator(".pager", { hasText: `of ${BULK}` }).waitFor();
    await expect(message(jo, "Bulk thread").count()).resolves.toBe(3);
    await message(jo, "Re: Bulk thread").first().click();
    for (let i = 0; i < 30; i++) await jo.keyboard.press("j");
    // The 31st row is open and the list scrolled to it.
    const selected = jo.locator(".messages .message.selected");
    await expect(selected.locator(".subject").textContent()).resolves.toBe(`Bulk message ${BULK - 31}`);
    const inView = await selected.evaluate((el) => {
      const row = el.getBoundingClientRect();
      const list = el.closest(".messages")!.getBoundingClientRect();
      return row.top >= list.top && row.bottom <= list.bottom;
    });
    expect(inView).toBe(true);
    await expect(jo.locator(".reader .subject").first().textContent()).resolves.toBe(`Bulk message ${BULK - 31}`);
    expect(await rowsInDom(jo)).toBeLessThan(MAX_ROWS);
    await jo.check(".collapse-threads input");
  });

  test("on a phone-sized screen the list scrolls on its own, still only the rows in view", async () => {
    await jo.setViewportSize(PHONE);
    // On a phone an open message takes the screen: back to the list first.
    await jo.click("button.back");
    await scrollTo(jo, 0);
    await message(jo, "Re: Bulk thread").waitFor();
    const box = await jo.locator(".messages").evaluate((el) => ({
      client: el.clientHeight,
      scroll: el.scrollHeight,
      width: el.getBoundingClientRect().width,
    }));
    expect(box.client).toBeLessThan(PHONE.height);
    expect(box.scroll).toBe((BULK - 2) * 76);
    expect(box.width).toBeLessThanOrEqual(PHONE.width);
    expect(await rowsInDom(jo)).toBeLessThan(MAX_ROWS);
    await scrollTo(jo, "end");
    await message(jo, "Bulk message 0").waitFor();
    expect(await rowsInDom(jo)).toBeLessThan(MAX_ROWS);
  });
});
