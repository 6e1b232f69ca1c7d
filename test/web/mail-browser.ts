/**
 * Shared set-up of the webmail's browser tests (issue 22): a real `postern serve` and Debian's Chromium driven by
 * playwright-core (no browser download), one context per user. Skipped with a message where /usr/bin/chromium
 * (CHROMIUM_PATH) is missing.
 */
import { afterAll, beforeAll } from "bun:test";
import { existsSync } from "node:fs";
import nodemailer from "nodemailer";
import type { Browser, BrowserContext, BrowserContextOptions, Page } from "playwright-core";
import { type MailServer, type MailServerOptions, startMailServer } from "../helpers/mail-server.ts";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`skipping the browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium)`);

export interface MailBrowser {
  mail: MailServer;
  base: string;
  /** A page in a context of its own (its own cookies); desktop-sized unless `options.viewport` says otherwise. */
  newPage(options?: BrowserContextOptions): Promise<Page>;
  signIn(page: Page, address: string, password: string): Promise<void>;
  smtpSend(raw: string, to: string): Promise<void>;
  stop(): Promise<void>;
}

export async function startMailBrowser(options: Omit<MailServerOptions, "waitFor">): Promise<MailBrowser> {
  const mail = await startMailServer({ waitFor: ["smtp", "http"], ...options });
  const base = `http://127.0.0.1:${mail.server.ports.http}`;
  const { chromium } = await import("playwright-core");
  const browser: Browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  const contexts: BrowserContext[] = [];
  return {
    mail,
    base,
    async newPage(options = {}) {
      const context = await browser.newContext({
        acceptDownloads: true,
        viewport: { width: 1280, height: 760 },
        ...options,
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      return page;
    },
    async signIn(page, address, password) {
      await page.goto(`${base}/mail/`);
      await page.fill("input[name=username]", address);
      await page.fill("input[name=password]", password);
      await page.click("button[type=submit]");
      // Attached, not visible: on a phone the folders are a menu, closed at first.
      await page.locator(".mailbox[data-role=inbox].selected").waitFor({ state: "attached" });
    },
    async smtpSend(raw, to) {
      await nodemailer
        .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
        .sendMail({ envelope: { from: "sender@elsewhere.test", to: [to] }, raw });
    },
    async stop() {
      for (const context of contexts) await context.close().catch(() => {});
      await browser.close();
      await mail.stop();
    },
  };
}

/** A row of the message list by its subject. */
export const messageRow = (page: Page, subject: string) => page.locator(".messages .message", { hasText: subject });

/**
 * A server and the browser for a test file: started before its tests (where Chromium is), stopped after them. The
 * fields are set once `beforeAll` ran.
 */
export function useMailBrowser(options: Omit<MailServerOptions, "waitFor">): MailBrowser {
  const web = {} as MailBrowser;
  beforeAll(async () => {
    if (haveChromium) Object.assign(web, await startMailBrowser(options));
  }, 90_000);
  afterAll(async () => {
    await web.stop?.();
  }, 30_000);
  return web;
}
