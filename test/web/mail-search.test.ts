/**
 * The webmail's search in Chromium (issue 22): the advanced form (from, to, subject, words, received dates, has
 * attachment) and the box's `from:` `subject:` `has:attachment` prefixes each find the right messages, through a JMAP
 * Email/query FilterCondition (RFC 8621 §4.4.1) combined with the mailbox shown.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { runtime } from "../helpers/runtime.ts";
import { until } from "../helpers/until.ts";
import { conditionOf, parseQuery } from "../../src/web/mail/search-form.ts";
import { haveChromium, messageRow, useMailBrowser } from "./mail-browser.ts";

const web = useMailBrowser({ users: { "jo@example.test": "jo-password" } });
let page: Page;

const plain = (from: string, to: string, subject: string, body: string) =>
  `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\nMessage-ID: <${
    subject.replace(/\W/g, "")
  }@elsewhere.test>\r\n` +
  `\r\n${body}\r\n`;

const withAttachment = (from: string, subject: string) =>
  `From: ${from}\r\nTo: jo@example.test\r\nSubject: ${subject}\r\nMessage-ID: <att@elsewhere.test>\r\n` +
  `MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n` +
  `The figures.\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="q3.pdf"\r\n` +
  `Content-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n`;

const day = (offset: number) => {
  const d = new Date();
  d.setDate(d.getDate() + offset);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};

/** Waits until the list shows these subjects (in any order). */
async function listShows(page: Page, expected: string[]) {
  let last: string[] = [];
  await until(`the list to show ${expected.join(", ")}`, async () => {
    last = (await page.locator(".messages .message .subject").allTextContents()).map((s) => s.trim()).sort();
    return JSON.stringify(last) === JSON.stringify(expected) ? true : undefined;
  }, 10_000).catch(() => expect(last).toEqual(expected));
}

async function advanced(page: Page, fields: Record<string, string | boolean>, expected: string[]) {
  if (!await page.locator(".advanced-search").evaluate((d) => (d as HTMLDetailsElement).open)) {
    await page.click(".advanced-search summary");
  }
  await page.click(".advanced-search button[type=reset]");
  for (const [label, value] of Object.entries(fields)) {
    if (value === true) await page.getByLabel(label).check();
    else await page.getByLabel(label, { exact: true }).fill(value as string);
  }
  await page.click(".advanced-search button[type=submit]");
  await listShows(page, expected);
}

describe("search fields to a FilterCondition", () => {
  test("prefixes in the box", () => {
    expect(parseQuery('from:lee subject:"big news" has:attachment report')).toEqual({
      from: "lee",
      subject: "big news",
      hasAttachment: true,
      text: "report",
    });
    const c = conditionOf(parseQuery("after:2026-03-01 before:2026-03-31"));
    expect(Object.keys(c).sort()).toEqual(["after", "before"]);
    expect(String(c.after)).toMatch(/^2026-0[23]-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(conditionOf(parseQuery("after:never"))).toEqual({});
  });
});

describe.skipIf(!haveChromium)(`webmail search in Chromium (server on ${runtime()})`, () => {
  test("each field of the advanced search finds the right messages", async () => {
    await web.smtpSend(
      plain("Lee <lee@elsewhere.test>", "jo@example.test", "Lunch plans", "Pizza on Friday"),
      "jo@example.test",
    );
    await web.smtpSend(
      plain("Sam <sam@elsewhere.test>", "team@example.test", "Budget review", "Numbers for lunch"),
      "jo@example.test",
    );
    await web.smtpSend(withAttachment("Ana <ana@elsewhere.test>", "Quarterly report"), "jo@example.test");
    page = await web.newPage();
    await web.signIn(page, "jo@example.test", "jo-password");
    await messageRow(page, "Quarterly report").waitFor();
    const all = ["Budget review", "Lunch plans", "Quarterly report"];
    await listShows(page, all);

    await advanced(page, { From: "lee@" }, ["Lunch plans"]);
    await advanced(page, { To: "team@" }, ["Budget review"]);
    await advanced(page, { Subject: "report" }, ["Quarterly report"]);
    await advanced(page, { "Has the words": "lunch" }, ["Budget review", "Lunch plans"]);
    await advanced(page, { "Has attachment": true }, ["Quarterly report"]);
    await advanced(page, { "Received on or after": day(0) }, all);
    await advanced(page, { "Received on or after": day(1) }, []);
    await advanced(page, { "Received on or before": day(-1) }, []);
    await advanced(page, { "Received on or before": day(0), From: "sam" }, ["Budget review"]);
    await expect(page.locator(".box-title").textContent()).resolves.toContain("from:sam");
    await page.click(".advanced-search button[type=reset]");
    await listShows(page, all);
  });

  test("the box's prefixes: from:, subject:, has:attachment", async () => {
    const box = async (query: string, expected: string[]) => {
      await page.fill(".search input", query);
      await page.press(".search input", "Enter");
      await listShows(page, expected);
    };
    await box("from:ana", ["Quarterly report"]);
    await box('subject:"lunch plans"', ["Lunch plans"]);
    await box("has:attachment figures", ["Quarterly report"]);
    await box("lunch from:sam", ["Budget review"]);
    await box("", ["Budget review", "Lunch plans", "Quarterly report"]);
    // Another mailbox: the search applies within it.
    await page.fill(".search input", "lunch");
    await page.press(".search input", "Enter");
    await page.click(".mailbox[data-role=trash]");
    await listShows(page, []);
  });
});
