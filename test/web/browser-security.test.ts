/**
 * The webmail in Chromium, security (issue 22): a JMAP request without the CSRF token is refused; another account's
 * message and blob are refused. (The HTML sandbox is in browser-reading.test.ts.) See ./helpers.ts.
 */
import { describe, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { runtime } from "../helpers/runtime.ts";
import { haveChromium, htmlWithAttachment, message, useWeb } from "./helpers.ts";

const web = useWeb();
let jo: Page;
let kim: Page;

describe.skipIf(!haveChromium)(`webmail in Chromium: security (server on ${runtime()})`, () => {
  test("a JMAP request without the CSRF token is refused; another account's message and blob are refused", async () => {
    await web.smtpSend(
      htmlWithAttachment("jo@example.test", "For Jo only", "<p>Private.</p>"),
      "jo@example.test",
    );
    jo = await web.newPage();
    await web.signIn(jo, "jo@example.test", "jo-password");
    await message(jo, "For Jo only").click();
    const joEmailId = (await message(jo, "For Jo only").getAttribute("data-id"))!;
    const joAttachmentUrl = (await jo.locator(".reader .attachments a", { hasText: "data.bin" }).getAttribute("href"))!;
    kim = await web.newPage();
    await web.signIn(kim, "kim@example.test", "kim-password");

    const status = await jo.evaluate(async () => {
      const body = JSON.stringify({ using: ["urn:ietf:params:jmap:core"], methodCalls: [["Core/echo", {}, "0"]] });
      const without = await fetch("/jmap/api", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      const { csrf } = await (await fetch("/mail/session")).json();
      const headers = { "content-type": "application/json", "x-postern-csrf": csrf };
      const withToken = await fetch("/jmap/api", { method: "POST", headers, body });
      return [without.status, withToken.status];
    });
    expect(status).toEqual([401, 200]);

    // Kim, signed in, asks for Jo's attachment by its URL, with her own account id, and Jo's message by its id.
    const refused = await kim.evaluate(async ({ url, emailId }) => {
      const { csrf } = await (await fetch("/mail/session")).json();
      const session = await (await fetch("/jmap/session")).json();
      const kimAccount = session.primaryAccounts["urn:ietf:params:jmap:mail"];
      const asKim = url.replace(/^\/jmap\/download\/[^/]+\//, `/jmap/download/${kimAccount}/`);
      const get = await fetch("/jmap/api", {
        method: "POST",
        headers: { "content-type": "application/json", "x-postern-csrf": csrf },
        body: JSON.stringify({
          using: ["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"],
          methodCalls: [["Email/get", { accountId: kimAccount, ids: [emailId], properties: ["subject"] }, "0"]],
        }),
      });
      return {
        joUrl: (await fetch(url)).status,
        kimUrl: (await fetch(asKim)).status,
        get: (await get.json()).methodResponses[0][1],
      };
    }, { url: joAttachmentUrl, emailId: joEmailId });
    expect(refused.joUrl).toBe(404);
    expect(refused.kimUrl).toBe(404);
    expect(refused.get.list).toEqual([]);
    expect(refused.get.notFound).toEqual([joEmailId]);
  });
});
