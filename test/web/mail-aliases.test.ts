/**
 * Own aliases in the webmail's settings (issue 22) through JMAP `urn:postern:aliases`: listed, created, disabled and
 * enabled, deleted — at a domain opened to owners; at a closed one the server's refusal is shown. Mail to the alias
 * arrives while it is enabled and is refused while disabled.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { jmapSession } from "../helpers/jmap.ts";
import { runtime } from "../helpers/runtime.ts";
import { until } from "../helpers/until.ts";
import { haveChromium, type MailBrowser, messageRow, startMailBrowser } from "./mail-browser.ts";

let web: MailBrowser;
let page: Page;

beforeAll(async () => {
  if (!haveChromium) return;
  web = await startMailBrowser({
    users: { "jo@example.test": "jo-password" },
    setup: [["alias", "owners", "example.test", "on"], ["domain", "add", "closed.test"]],
  });
}, 90_000);

afterAll(async () => {
  await web?.stop();
}, 30_000);

const ALIASES_USING = ["urn:ietf:params:jmap:core", "urn:postern:aliases"];

async function serverAliases(): Promise<Array<{ address: string; disabled: boolean }>> {
  const api = await jmapSession(web.mail, "jo@example.test", "jo-password");
  const [response] = await api.request([["Alias/get", { accountId: api.accountId }, "0"]], ALIASES_USING);
  const { list } = response![1] as { list: Array<{ address: string; disabled: boolean }> };
  return list.map(({ address, disabled }) => ({ address, disabled }));
}

const toAlias = (subject: string) =>
  web.smtpSend(
    `From: Lee <lee@elsewhere.test>\r\nTo: news@example.test\r\nSubject: ${subject}\r\n\r\nHello.\r\n`,
    "news@example.test",
  );

describe.skipIf(!haveChromium)(`own aliases in the webmail's settings (server on ${runtime()})`, () => {
  test("create an alias; mail to it arrives; the list shows it", async () => {
    page = await web.newPage();
    await web.signIn(page, "jo@example.test", "jo-password");
    await page.click(".open-settings");
    await page.locator(".own-aliases .empty").waitFor();
    await page.fill(".own-aliases input[name=address]", "news@example.test");
    await page.click(".own-aliases button[type=submit]");
    await page.locator(".own-aliases .alias-address", { hasText: "news@example.test" }).waitFor();
    expect(await page.inputValue(".own-aliases input[name=address]")).toBe("");
    expect(await serverAliases()).toEqual([{ address: "news@example.test", disabled: false }]);
    await toAlias("Through the alias");
    await page.click(".close-settings");
    await messageRow(page, "Through the alias").waitFor();
  });

  test("a closed domain and a taken address are refused with the server's reason", async () => {
    await page.click(".open-settings");
    await page.fill(".own-aliases input[name=address]", "me@closed.test");
    await page.click(".own-aliases button[type=submit]");
    await expect(page.locator(".settings [role=alert]").textContent()).resolves.toMatch(/owners/);
    await page.click(".settings [role=alert] button");
    await page.fill(".own-aliases input[name=address]", "news@example.test");
    await page.click(".own-aliases button[type=submit]");
    await expect(page.locator(".settings [role=alert]").textContent()).resolves.toContain("already exists");
    await page.click(".settings [role=alert] button");
    expect(await serverAliases()).toEqual([{ address: "news@example.test", disabled: false }]);
  });

  test("disabled, mail to it is refused; enabled again; deleted", async () => {
    const enabled = page.locator(".own-aliases input[type=checkbox]");
    await enabled.uncheck();
    await page.locator(".own-aliases .alias.disabled").waitFor();
    expect(await serverAliases()).toEqual([{ address: "news@example.test", disabled: true }]);
    // A worker's recipient cache may still hold the alias for up to a second (docs/scaling.md): retry until refused.
    await until(
      "mail to the disabled alias refused",
      () => toAlias("While disabled").then(() => undefined, () => true),
      5000,
    );
    await enabled.check();
    await page.locator(".own-aliases .alias.disabled").waitFor({ state: "detached" });
    expect(await serverAliases()).toEqual([{ address: "news@example.test", disabled: false }]);
    page.once("dialog", (dialog) => dialog.accept());
    await page.click(".own-aliases .delete-alias");
    await page.locator(".own-aliases .empty").waitFor();
    expect(await serverAliases()).toEqual([]);
  });
});
