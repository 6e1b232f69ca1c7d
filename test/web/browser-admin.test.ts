/**
 * The admin console in Chromium (issue 22): the token, domains with their DNS records, DKIM keys and DNS check,
 * accounts, the outbound queue, the overview. See ./helpers.ts.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runtime } from "../helpers/runtime.ts";
import { ADMIN_TOKEN, compose, haveChromium, plainMessage, SHOTS, signInWithToken, useWeb } from "./helpers.ts";

const web = useWeb();

describe.skipIf(!haveChromium)(`admin console in Chromium (server on ${runtime()})`, () => {
  test("admin: sign in with the token, create a domain, see its DNS records, create an account, reset its password, retry a deferred queue item", async () => {
    // Mail received this hour, and two messages for the queue: Jo writes to remote addresses; the relay does not
    // answer.
    for (const subject of ["One", "Two", "Three", "Four"]) {
      await web.smtpSend(
        plainMessage("sender@elsewhere.test", "kim@example.test", subject, "Hi."),
        "kim@example.test",
      );
    }
    const jo = await web.newPage();
    await web.signIn(jo, "jo@example.test", "jo-password");
    await compose(jo, "far@remote.test", "To the outside");
    await compose(jo, "near@remote.test", "Also to the outside");

    const admin = await web.newPage();
    await admin.goto(`${web.base}/admin/`);
    const withToken = "form[aria-label='Sign in with the admin token'] button[type=submit]";
    await admin.fill("input[name=token]", "wrong-token");
    await admin.click(withToken);
    await expect(admin.locator("[role=alert]").textContent()).resolves.toContain("not valid");
    await admin.fill("input[name=token]", ADMIN_TOKEN);
    await admin.click(withToken);

    await admin.fill("input[name=name]", "new.test");
    await admin.click("form[aria-label='Add a domain'] button[type=submit]");
    await admin.locator("td", { hasText: "new.test" }).waitFor();
    // What `postern dns new.test` prints.
    await admin.locator("tr", { hasText: "new.test" }).locator("button", { hasText: "DNS records" }).click();
    const records = admin.locator(".dns pre");
    await records.filter({ hasText: "IN MX" }).waitFor();
    const zone = (await records.textContent())!;
    expect(zone).toContain("new.test. 3600 IN MX 10 mx.postern.test.");
    expect(zone).toContain("_dmarc.new.test. 3600 IN TXT");
    expect(zone).toContain('"v=spf1');

    // DKIM: the first key signs at once; a second one waits until activated. Each shows its record.
    const dkim = admin.locator(".dkim");
    await dkim.locator("p", { hasText: "No key yet" }).waitFor();
    await dkim.locator("input[name=selector]").fill("web1");
    await dkim.locator("button[type=submit]").click();
    const web1 = dkim.locator(".dkim-key", { hasText: "web1" });
    await web1.locator(".badge", { hasText: "signs" }).waitFor();
    expect(await web1.locator("pre").textContent()).toMatch(
      /^web1\._domainkey\.new\.test\. 3600 IN TXT "v=DKIM1; k=rsa; p=/,
    );
    await dkim.locator("input[name=selector]").fill("web2");
    await dkim.locator("button[type=submit]").click();
    const web2 = dkim.locator(".dkim-key", { hasText: "web2" });
    await web2.locator("button", { hasText: "Activate" }).click();
    await web2.locator(".badge", { hasText: "signs" }).waitFor();
    await web1.locator("button", { hasText: "Activate" }).waitFor();

    // The DNS check (postern dns check): the MX published in the test's DNS server is found, DMARC is missing.
    web.mail.dns.add("new.test", { type: "MX", priority: 10, exchange: "mx.postern.test" });
    await admin.click(".dns-check button.run-check");
    const mxRow = admin.locator(".dns-check tr", { hasText: "new.test MX" });
    await expect(mxRow.locator(".badge").textContent()).resolves.toBe("ok");
    await expect(admin.locator(".dns-check tr", { hasText: "_dmarc.new.test TXT" }).locator(".badge").textContent())
      .resolves.toBe("missing");
    await admin.screenshot({ path: join(SHOTS, "admin-dns.png"), fullPage: true });

    await admin.click("button.tab:has-text('Accounts')");
    await admin.fill("input[name=address]", "ana@new.test");
    await admin.fill("input[name=password]", "ana-password");
    await admin.fill("input[name=displayName]", "Ana");
    await admin.click("form[aria-label='Add an account'] button[type=submit]");
    await admin.locator("td", { hasText: "ana@new.test" }).waitFor();
    await admin.screenshot({ path: join(SHOTS, "admin-accounts.png") });
    const accounts = await (await fetch(`${web.base}/api/v1/accounts`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    })).json() as Array<{ address: string }>;
    expect(accounts.map((a) => a.address)).toContain("ana@new.test");

    // A new password from the console; the account signs in to the webmail with it.
    admin.once("dialog", (dialog) => dialog.accept("ana-new-password"));
    await admin.locator("tr", { hasText: "ana@new.test" }).locator("button", { hasText: "Reset password" }).click();
    const ana = await web.newPage();
    for (let i = 0; i < 50; i++) {
      const r = await fetch(`${web.base}/mail/session`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "ana@new.test", password: "ana-new-password" }),
      });
      if (r.status === 200) break;
      await Bun.sleep(100);
    }
    await web.signIn(ana, "ana@new.test", "ana-new-password");

    await admin.click("button.tab:has-text('Queue')");
    const row = admin.locator("tr", { hasText: "far@remote.test" });
    await row.waitFor();
    await expect(row.textContent()).resolves.toMatch(/far@remote\.test: (queued|deferred)/);
    await admin.locator("tr", { hasText: "far@remote.test" }).locator("td", { hasText: /deferred/ }).waitFor();
    const before = await queueAttempts();
    await row.locator("button", { hasText: "Retry" }).click();
    for (let i = 0; i < 100 && (await queueAttempts()) === before; i++) await Bun.sleep(100);
    expect(await queueAttempts()).toBeGreaterThan(before);
    expect(await admin.locator("[role=alert]").count()).toBe(0);
    await admin.screenshot({ path: join(SHOTS, "admin-queue.png") });

    // The overview: messages received this hour, the queued message by age, its remote's last reply.
    await admin.click("button.tab:has-text('Overview')");
    const charts = admin.locator(".overview svg");
    await charts.first().waitFor();
    const perHour = (await charts.nth(0).getAttribute("aria-label"))!;
    const thisHour = Number(/(\d+)$/.exec(perHour)![1]);
    expect(thisHour).toBeGreaterThanOrEqual(4);
    expect(Number(await admin.locator(".totals .received").textContent())).toBe(thisHour);
    // Jo's two messages to remote addresses: both just queued.
    expect(await charts.nth(1).getAttribute("aria-label")).toContain("(2 message(s)): < 5 min 2,");
    await expect(admin.locator(".totals .deliveries").textContent()).resolves.toMatch(/deferred: [1-9]/);
    const recent = admin.locator(".recent tr", { hasText: "far@remote.test" });
    await expect(recent.textContent()).resolves.toContain("jo@example.test");
    await admin.screenshot({ path: join(SHOTS, "admin-overview.png"), fullPage: true });

    // The activity from the log: Kim's messages accepted, the delivery attempt to the remote that does not answer.
    // A worker's events reach the primary with its next snapshot (5 s), so Refresh until they are there.
    await admin.click("button.tab:has-text('Activity')");
    const activity = admin.locator("section.activity");
    const until = async (row: ReturnType<typeof admin.locator>) => {
      for (let i = 0; i < 60 && !(await row.count()); i++) {
        await Bun.sleep(250);
        await activity.locator("button.refresh").click();
      }
      await row.first().waitFor();
    };
    const delivery = activity.locator("tr.activity-delivery", { hasText: "far@remote.test" });
    await until(delivery);
    await expect(delivery.first().textContent()).resolves.toMatch(/deferred \d\.\d\.\d/);
    await until(activity.locator("tr.activity-accepted", { hasText: "kim@example.test" }));
    await activity.locator("select").selectOption("delivery");
    await activity.locator("tr.activity-accepted").first().waitFor({ state: "detached" });
    expect(await activity.locator("tr.activity-delivery").count()).toBeGreaterThan(0);
  });

  test("an account marked admin signs in with its address and password; one not marked is refused", async () => {
    const page = await web.newPage();
    await page.goto(`${web.base}/admin/`);
    await page.screenshot({ path: join(SHOTS, "admin-sign-in.png") });
    const signIn = async (username: string, password: string) => {
      await page.fill("input[name=username]", username);
      await page.fill("input[name=password]", password);
      await page.click("form[aria-label='Sign in with an admin account'] button[type=submit]");
    };
    await signIn("sam@example.test", "sam-password");
    await expect(page.locator("[role=alert]").textContent()).resolves.toBe("sam@example.test is not an administrator");
    await signIn("kim@example.test", "not-it");
    await page.locator("[role=alert]", { hasText: "Wrong address or password" }).waitFor();

    // Kim is made admin from the console (signed in with the token); then she signs in herself.
    const token = await web.newPage();
    await signInWithToken(token, web.base);
    await token.click("button.tab:has-text('Accounts')");
    const kimRow = token.locator("tr", { hasText: "kim@example.test" });
    await kimRow.locator("button", { hasText: "Make admin" }).click();
    await kimRow.locator(".badge", { hasText: "admin" }).waitFor();

    await signIn("kim@example.test", "kim-password");
    await expect(page.locator(".top .user").textContent()).resolves.toBe("kim@example.test");
    expect((await page.context().cookies()).map((c) => [c.name, c.httpOnly, c.sameSite])).toEqual([
      ["postern_admin", true, "Strict"],
    ]);
    // A change goes through with the session's CSRF token; the page keeps no token of its own.
    await page.fill("input[name=name]", "kim.test");
    await page.click("form[aria-label='Add a domain'] button[type=submit]");
    await page.locator("td", { hasText: "kim.test" }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    // Still signed in after a reload; the cookie alone, without the CSRF token, changes nothing.
    await page.reload();
    await page.locator("td", { hasText: "kim.test" }).waitFor();
    const status = await page.evaluate(async () =>
      (await fetch("/api/v1/domains", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "forged.test" }),
      })).status
    );
    expect(status).toBe(401);
    await page.click("button.sign-out");
    await page.locator("input[name=username]").waitFor();
    expect(await page.evaluate(async () => (await fetch("/admin/session")).status)).toBe(401);
  });
});

async function queueAttempts(): Promise<number> {
  const queue = await (await fetch(`${web.base}/api/v1/queue`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  })).json() as Array<{ recipients: Array<{ recipient: string; attempts: number }> }>;
  return queue.flatMap((m) => m.recipients).find((r) => r.recipient === "far@remote.test")?.attempts ?? 0;
}
