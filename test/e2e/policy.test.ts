/**
 * Policy checks without outside daemons, end to end: a DNS blocklist served by the local DNS
 * server, and an HTTP policy hook answering verdicts as JSON.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:http";
import nodemailer from "nodemailer";
import { dnsblName } from "../../src/policy/dnsbl.ts";
import { network } from "../../src/policy/greylist.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let listed: MailServer;
let hooked: MailServer;
let grey: MailServer;
let limited: MailServer;
let strict: MailServer;
let hookServer: Server;
const hookCalls: Array<{ stage: string; recipients: string[] }> = [];

beforeAll(async () => {
  hookServer = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      const call = JSON.parse(body) as { stage: string; recipients: string[]; raw?: string };
      hookCalls.push(call);
      if (call.stage === "rcpt" && call.recipients.includes("nope@example.test")) {
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({ action: "reject", reason: "The HTTP hook says no" }),
        );
      } else if (call.stage === "data" && Buffer.from(call.raw ?? "", "base64").toString().includes("Subject: later")) {
        res.writeHead(200, { "content-type": "application/json" }).end(
          JSON.stringify({ action: "tempfail", reason: "Come back later" }),
        );
      } else res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => hookServer.listen(0, "127.0.0.1", resolve));
  const hookUrl = `http://127.0.0.1:${(hookServer.address() as { port: number }).port}/policy`;
  [listed, hooked, grey, limited, strict] = await Promise.all([
    startMailServer({
      waitFor: ["smtp"],
      users: { "amy@example.test": "amy-password" },
      config: { policy: { dnsbl: { zones: ["bl.test"] } } },
    }),
    startMailServer({
      waitFor: ["smtp"],
      users: { "amy@example.test": "amy-password", "nope@example.test": "nope-password" },
      config: { policy: { hooks: [hookUrl] } },
    }),
    startMailServer({
      waitFor: ["smtp"],
      users: { "amy@example.test": "amy-password" },
      config: { policy: { greylist: { delay: 1 } } },
    }),
    startMailServer({
      waitFor: ["smtp"],
      users: { "amy@example.test": "amy-password" },
      config: { policy: { rateLimits: { messagesPerIpPerHour: 2 } } },
    }),
    startMailServer({
      waitFor: ["smtp"],
      users: { "amy@example.test": "amy-password" },
      config: { policy: { dmarc: { enforce: true } } },
    }),
  ]);
  for (const [domain, policy] of [["evil.test", "reject"], ["shady.test", "quarantine"]]) {
    strict.dns.add(domain!, { type: "TXT", text: "v=spf1 -all" });
    strict.dns.add(`_dmarc.${domain}`, { type: "TXT", text: `v=DMARC1; p=${policy}` });
  }
  listed.dns.add(dnsblName("127.0.0.1", "bl.test")!, { type: "A", address: "127.0.0.2" });
}, 60_000);

afterAll(async () => {
  await Promise.allSettled([listed?.stop(), hooked?.stop(), grey?.stop(), limited?.stop(), strict?.stop()]);
  hookServer?.close();
});

function send(server: MailServer, to: string, subject: string, from = "x@remote.test") {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: server.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({ envelope: { from, to: [to] }, raw: `From: ${from}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nx\r\n` })
    .then((info) => info.response, (e: { response?: string }) => e.response ?? String(e));
}

describe(`policy on ${runtime()}`, () => {
  test("a client listed in a DNS blocklist is refused at RCPT", async () => {
    expect(dnsblName("192.0.2.99", "bl.test")).toBe("99.2.0.192.bl.test");
    expect(await send(listed, "amy@example.test", "from a listed host")).toMatch(
      /^550 5\.7\.1 Client address 127\.0\.0\.1 is listed by bl\.test/,
    );
  });

  test("greylisting: the first try gets 451, a retry after the delay passes, and is remembered", async () => {
    expect(await send(grey, "amy@example.test", "first try")).toMatch(
      /^451 4\.7\.1 Greylisted, please try again in 1 seconds/,
    );
    expect(await send(grey, "amy@example.test", "too soon")).toMatch(/^451 4\.7\.1 Greylisted/);
    await Bun.sleep(1200);
    expect(await send(grey, "amy@example.test", "retry")).toMatch(/^250 /);
    expect(await send(grey, "amy@example.test", "known now")).toMatch(/^250 /);
    expect(network("192.0.2.77")).toBe("192.0.2.0/24");
    expect(network("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
  });

  test("a rate limit trips, and a restart does not reset it", async () => {
    expect(await send(limited, "amy@example.test", "one")).toMatch(/^250 /);
    expect(await send(limited, "amy@example.test", "two")).toMatch(/^250 /);
    expect(await send(limited, "amy@example.test", "three")).toMatch(
      /^451 4\.7\.1 Rate limit messagesPerIpPerHour \(2\) reached for 127\.0\.0\.1/,
    );
    await limited.server.restart();
    expect(await send(limited, "amy@example.test", "after restart")).toMatch(/^451 4\.7\.1 Rate limit/);
  });

  test("DMARC enforcement: p=reject is refused at SMTP time, p=quarantine goes to Junk", async () => {
    expect(await send(strict, "amy@example.test", "spoofed", "ceo@evil.test")).toMatch(
      /^550 5\.7\.1 DMARC policy of evil\.test says reject/,
    );
    expect(await send(strict, "amy@example.test", "shady one", "ceo@shady.test")).toMatch(/^250 /);
    expect(await send(strict, "amy@example.test", "honest one")).toMatch(/^250 /);
    const inbox = await readInbox(strict.dataDir, "amy@example.test");
    expect(inbox.some((m) => m.raw.includes("Subject: shady one"))).toBe(false);
    expect(inbox.some((m) => m.raw.includes("Subject: honest one"))).toBe(true);
  });

  test("an HTTP hook refuses a recipient at RCPT and tempfails a message at DATA; other mail passes", async () => {
    expect(await send(hooked, "nope@example.test", "hi")).toMatch(/^550 5\.7\.1 The HTTP hook says no/);
    expect(await send(hooked, "amy@example.test", "later")).toMatch(/^451 4\.7\.1 Come back later/);
    expect(await send(hooked, "amy@example.test", "fine")).toMatch(/^250 /);
    expect(hookCalls.some((c) => c.stage === "data")).toBe(true);
  });
});
