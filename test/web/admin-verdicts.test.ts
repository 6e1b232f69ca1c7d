/**
 * Policy verdicts in the admin console's overview (issue 22): `GET /admin/overview` gives the counts of
 * `postern_policy_verdicts_total` per action and per check, and the overview draws them as bar charts once a message
 * was accepted by a policy check (here the rate limits, which need no outside service).
 */
import { describe, expect, test } from "bun:test";
import { runtime } from "../helpers/runtime.ts";
import { until } from "../helpers/until.ts";
import { ADMIN_TOKEN, plainMessage, signInWithToken } from "./helpers.ts";
import { haveChromium, useMailBrowser } from "./mail-browser.ts";

const web = useMailBrowser({
  users: { "kim@example.test": "kim-password" },
  config: {
    api: { adminToken: ADMIN_TOKEN },
    policy: { rateLimits: { messagesPerIpPerHour: 1000, messagesPerAccountPerHour: 1000 } },
  },
});

interface Verdicts {
  byAction: Record<string, number>;
  byCheck: Record<string, number>;
}

const verdicts = async () => {
  const response = await fetch(`${web.base}/admin/overview`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  expect(response.status).toBe(200);
  return ((await response.json()) as { totals: { verdicts: Verdicts } }).totals.verdicts;
};

describe.skipIf(!haveChromium)(`policy verdicts in the admin overview (server on ${runtime()})`, () => {
  test("the REST figures: none before mail, then accept and rate-limit counted", async () => {
    expect(await verdicts()).toEqual({ byAction: {}, byCheck: {} });
    for (const subject of ["One", "Two"]) {
      await web.smtpSend(plainMessage("sender@elsewhere.test", "kim@example.test", subject, "Hi."), "kim@example.test");
    }
    const counted = await until("two verdicts", async () => {
      const v = await verdicts();
      return (v.byAction.accept ?? 0) >= 2 ? v : undefined;
    });
    expect(Object.keys(counted.byAction)).toEqual(["accept"]);
    expect(counted.byCheck["rate-limit"]).toBe(counted.byAction.accept);
  });

  test("the overview shows the verdicts as bar charts", async () => {
    const admin = await web.newPage();
    await signInWithToken(admin, web.base);
    await admin.click("button.tab:has-text('Overview')");
    const charts = admin.locator(".overview .verdicts svg");
    await charts.first().waitFor();
    expect(await charts.count()).toBe(2);
    expect(await charts.nth(0).getAttribute("aria-label")).toMatch(/^Policy verdicts by action: accept [2-9]/);
    expect(await charts.nth(1).getAttribute("aria-label")).toMatch(/^Policy verdicts by check: rate-limit [2-9]/);
    await expect(admin.locator(".overview .verdicts figcaption").first().textContent()).resolves
      .toBe("Policy verdicts by action");
  });
});
