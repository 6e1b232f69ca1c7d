/**
 * JMAP's VacationResponse as a managed Sieve script (RFC 8621 §8, issue 21), against `postern serve` on the runtime
 * named by POSTERN_TEST_RUNTIME: setting it writes and activates the script "JMAP VacationResponse" (seen by
 * SieveScript/get), and mail over real SMTP then gets one reply per sender through the queue; an account with a
 * filing script of its own still answers while its script files the mail; turning it off stops the replies.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { listen, type Listener } from "../../src/net/listener.ts";
import { type JmapSession, jmapSession, USING } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";

const ALL = [...USING, "urn:ietf:params:jmap:vacationresponse", "urn:ietf:params:jmap:sieve"];

const remote = new RecordingBackend();
let mx: Listener;
let mail: MailServer;
let jo: JmapSession;
let kim: JmapSession;

beforeAll(async () => {
  mx = await listen(await remoteMxOptions(remote));
  mail = await startMailServer({
    waitFor: ["http", "smtp"],
    users: { "jo@example.test": "jo-password", "kim@example.test": "kim-password" },
    config: { delivery: { transport: { "remote.test": `127.0.0.1:${mx.address().port}` }, retryDelay: 1 } },
  });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
  kim = await jmapSession(mail, "kim@example.test", "kim-password");
  // kim files everything from x@ into "Remote" with a script of her own.
  const file = `${mail.server.dir}/kim.sieve`;
  await Bun.write(file, 'require ["fileinto", "mailbox"]; fileinto :create "Remote";\n');
  const put = await mail.server.cli(["sieve", "put", "kim@example.test", "mine", file, "--activate"]);
  expect(put.stderr).toBe("");
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
});

const call = async (session: JmapSession, method: string, args: Record<string, unknown> = {}) =>
  (await session.request([[method, { accountId: session.accountId, ...args }, "0"]], ALL))[0]![1];

function send(from: string, to: string, subject: string) {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "client.test" })
    .sendMail({
      envelope: { from, to: [to] },
      raw: `From: <${from}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${crypto.randomUUID()}@remote.test>` +
        "\r\n\r\nhello\r\n",
    });
}

const repliesTo = (address: string) =>
  remote.received.filter((r) => r.transaction.recipients.some((x) => x.address === address));

async function waitFor(address: string, count: number) {
  const deadline = Date.now() + 20_000;
  while (repliesTo(address).length < count && Date.now() < deadline) await Bun.sleep(100);
  await Bun.sleep(1000); // room for a wrong extra reply
  return repliesTo(address);
}

const away = {
  isEnabled: true,
  fromDate: "2020-01-01T00:00:00Z",
  toDate: "2999-01-01T00:00:00Z",
  subject: "Out of office",
  textBody: 'Back on Monday.\nAsk "Sam" meanwhile.',
};

describe(`VacationResponse as a managed Sieve script on ${runtime()}`, () => {
  test("setting it activates the script; one reply per sender, through the queue", async () => {
    const set = await call(jo, "VacationResponse/set", { update: { singleton: away } });
    expect(set.updated).toEqual({ singleton: null });
    const scripts = (await call(jo, "SieveScript/get")).list as Array<{ name: string; isActive: boolean }>;
    expect(scripts.map((s) => [s.name, s.isActive])).toEqual([["JMAP VacationResponse", true]]);

    await send("a@remote.test", "jo@example.test", "first");
    await send("a@remote.test", "jo@example.test", "second");
    const replies = await waitFor("a@remote.test", 1);
    expect(replies).toHaveLength(1);
    const [reply] = replies;
    expect(reply!.transaction.sender).toBe("");
    expect(reply!.content).toMatch(/^Subject: Out of office\r$/m);
    expect(reply!.content).toMatch(/^Auto-Submitted: auto-replied\r$/m);
    expect(reply!.content).toContain('Ask "Sam" meanwhile.');
    // The message itself is kept.
    expect((await readInbox(mail.dataDir, "jo@example.test")).length).toBe(2);
  });

  test("beside another active script: that script files the mail, the VacationResponse still answers", async () => {
    await call(kim, "VacationResponse/set", { update: { singleton: away } });
    const scripts = (await call(kim, "SieveScript/get")).list as Array<{ name: string; isActive: boolean }>;
    expect(scripts.map((s) => [s.name, s.isActive]).sort()).toEqual([["JMAP VacationResponse", false], [
      "mine",
      true,
    ]]);
    await send("b@remote.test", "kim@example.test", "to kim");
    expect(await waitFor("b@remote.test", 1)).toHaveLength(1);
    expect(await readInbox(mail.dataDir, "kim@example.test")).toEqual([]);
  });

  test("outside its dates, or turned off, nothing is sent", async () => {
    await call(jo, "VacationResponse/set", { update: { singleton: { fromDate: "2998-01-01T00:00:00Z" } } });
    await send("c@remote.test", "jo@example.test", "too early");
    await call(jo, "VacationResponse/set", { update: { singleton: { fromDate: null, isEnabled: false } } });
    await send("d@remote.test", "jo@example.test", "turned off");
    await Bun.sleep(2000);
    expect(repliesTo("c@remote.test")).toHaveLength(0);
    expect(repliesTo("d@remote.test")).toHaveLength(0);
    expect((await readInbox(mail.dataDir, "jo@example.test")).length).toBe(4);
  });
});
