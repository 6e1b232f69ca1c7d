/**
 * What the browser tests of the webmail and the admin console share (issue 22), on top of ./mail-browser.ts (the
 * server, Debian's Chromium, sign-in, delivery over SMTP): `useWeb()` starts both for a test file with three users and
 * the admin token, outbound mail deferred; helpers to compose, find a message row, call JMAP from a signed-in page.
 *
 * Each test file calls `useWeb()` at its top level and wraps its tests in `describe.skipIf(!haveChromium)`: where
 * /usr/bin/chromium (CHROMIUM_PATH) is missing the tests are skipped with a message naming it.
 *
 * With WEB_SCREENSHOTS=1 screenshots go to docs/screenshots/ (shown in the README); otherwise to a temporary
 * directory, so a test run leaves the tree unchanged.
 */
import { afterAll, beforeAll } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { freePortPair } from "../helpers/ports.ts";
import { ROOT } from "../helpers/runtime.ts";
import { haveChromium, type MailBrowser, messageRow, startMailBrowser } from "./mail-browser.ts";

export { haveChromium };
export const SHOTS = process.env.WEB_SCREENSHOTS
  ? join(ROOT, "docs/screenshots")
  : mkdtempSync(join(tmpdir(), "postern-shots-"));
export const ADMIN_TOKEN = "admin-token-for-the-browser-test";
/** The users every server of these tests has, with their passwords. */
export const USERS = {
  "jo@example.test": "jo-password",
  "kim@example.test": "kim-password",
  "sam@example.test": "sam-password",
};
/** A phone's viewport (an iPhone 12 to 14, in CSS pixels). */
export const PHONE = { width: 390, height: 844 };

/** Bytes that survive no text conversion unchanged: every byte value, CR and LF alone, NUL. */
export const attachmentBytes = new Uint8Array(4099).map((_, i) => (i * 37 + 11) % 256);

/**
 * Starts the server (SMTP and HTTP; outbound mail to a relay port where nothing listens, so it stays deferred in the
 * queue) and the browser before the file's tests, and stops both after them. The fields are set once `beforeAll` ran.
 */
export function useWeb(): MailBrowser {
  const web = {} as MailBrowser;
  beforeAll(async () => {
    if (!haveChromium) return;
    Object.assign(
      web,
      await startMailBrowser({
        users: USERS,
        config: {
          api: { adminToken: ADMIN_TOKEN },
          delivery: { relayHost: `127.0.0.1:${(await freePortPair())[0]}`, retryDelay: 600 },
        },
      }),
    );
    mkdirSync(SHOTS, { recursive: true });
  }, 90_000);
  afterAll(async () => {
    await web.stop?.();
  }, 30_000);
  return web;
}

/** Signs in to the admin console at `base` with the admin token; the Domains section opens. */
export async function signInWithToken(page: Page, base: string): Promise<void> {
  await page.goto(`${base}/admin/`);
  await page.fill("input[name=token]", ADMIN_TOKEN);
  await page.click("form[aria-label='Sign in with the admin token'] button[type=submit]");
  await page.locator("button.tab.selected").waitFor();
}

/** A plain message from `From` to `To` with `subject` and `text`, CRLF line ends. */
export function plainMessage(from: string, to: string, subject: string, text: string): string {
  return `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\n${text.replace(/\r?\n/g, "\r\n")}\r\n`;
}

/** The row of the message list whose text contains `subject`. */
export const message = messageRow;

/** Writes and sends a message from the webmail's compose form. */
export async function compose(page: Page, to: string, subject: string, text = ""): Promise<void> {
  await page.click(".compose-button");
  await page.fill(".compose input[name=to]", to);
  await page.fill(".compose input[name=subject]", subject);
  if (text) await page.fill(".compose textarea[name=text]", text);
  await page.click(".compose button[type=submit]");
  await page.locator(".compose").waitFor({ state: "detached" });
}

/** The bytes a click on `link` downloads. */
export async function downloadBytes(page: Page, link: Locator): Promise<Uint8Array> {
  const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
  return new Uint8Array(readFileSync((await download.path())!));
}

/** JMAP method calls from a signed-in page (its cookie and CSRF token); `accountId` is filled in. */
export async function jmapInPage(
  page: Page,
  calls: unknown[],
): Promise<Array<[string, Record<string, unknown>, string]>> {
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

/** The subjects of a page's Drafts, each with whether it carries $draft. */
export const drafts = async (page: Page) =>
  (await draftEmails(page)).map((e) => ({ subject: e.subject, draft: !!e.keywords.$draft }));
/** The text of each of a page's Drafts. */
export const draftTexts = async (page: Page) => (await draftEmails(page)).map((e) => e.text);

/** A message with a plain and an HTML alternative and `attachmentBytes` attached as data.bin (base64). */
export function htmlWithAttachment(to: string, subject: string, html: string): string {
  const b64 = Buffer.from(attachmentBytes).toString("base64").replace(/.{76}/g, "$&\r\n");
  return [
    "From: News <news@elsewhere.test>",
    `To: ${to}`,
    `Subject: ${subject}`,
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
  ].join("\r\n");
}

const AXE_SOURCE = readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");

/** What `axeProblems` reports of one rule axe-core found broken. */
export interface AxeProblem {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * The serious and critical accessibility problems axe-core (from node_modules, injected with addScriptTag: nothing is
 * downloaded) finds in the page as it is now. The page must come from `newPage({ bypassCSP: true })`: the
 * applications' Content-Security-Policy allows no inline script, which addScriptTag adds.
 */
export async function axeProblems(page: Page): Promise<AxeProblem[]> {
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.addScriptTag({ content: AXE_SOURCE });
  return await page.evaluate(async () => {
    type Result = { id: string; impact: string; help: string; nodes: Array<{ target: string[] }> };
    const axe = (globalThis as unknown as {
      axe: { run(context: Document, options: unknown): Promise<{ violations: Result[] }> };
    }).axe;
    const { violations } = await axe.run(document, { resultTypes: ["violations"] });
    return violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => n.target.join(" ")) }));
  });
}
