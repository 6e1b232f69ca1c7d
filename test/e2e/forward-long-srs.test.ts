/**
 * Long SRS addresses end to end (issue 19): the SRS0/SRS1 addresses of long senders pass RFC 5321's
 * 64-octet local part, and §4.5.3.1 asks servers to take longer ones. `postern serve` (on the
 * runtime named by POSTERN_TEST_RUNTIME) forwards such a sender's mail, and the bounce to the
 * long SRS address (a RCPT of well over 64 octets) comes back to the sender — for SRS1, to the
 * first hop. The remote MX is Postern's own SMTP server, so its MAIL FROM takes them too.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { Srs } from "../../src/forward/srs.ts";
import { listen, type Listener } from "../../src/net/listener.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";
import { until } from "../helpers/until.ts";

const SRS_SECRET = "srs-secret-for-long-addresses";
const LONG_SENDER = "firstname.middlename.lastname+newsletters-and-offers@mail.a-rather-long-company-name.example";

const remote = new RecordingBackend();
let mx: Listener;
let mail: MailServer;

beforeAll(async () => {
  mx = await listen(await remoteMxOptions(remote));
  mail = await startMailServer({
    waitFor: ["smtp"],
    users: {},
    config: {
      hostname: "mx.postern.test",
      delivery: { transport: { "*": `127.0.0.1:${mx.address().port}` }, retryDelay: 1 },
      srs: { secret: SRS_SECRET },
    },
    setup: [
      ["domain", "add", "alias-domain.test", "--forward"],
      ["alias", "add", "friend@alias-domain.test", "me@real-mailbox.test"],
    ],
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
});

function inbound(from: string, to: string, subject: string) {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "mx.origin.test" })
    .sendMail({
      envelope: { from, to: [to] },
      raw: `From: ${from || "MAILER-DAEMON@remote.test"}\r\nTo: ${to}\r\nSubject: ${subject}\r\n\r\nhi\r\n`,
    });
}

const bySubject = (subject: string) => () => remote.received.find((r) => r.content.includes(`Subject: ${subject}\r\n`));
const localPartOf = (address: string) => address.slice(0, address.lastIndexOf("@"));

describe(`long SRS addresses on ${runtime()}`, () => {
  test("a long sender's mail is forwarded with its SRS0 address, and the bounce to it reaches the sender", async () => {
    await inbound(LONG_SENDER, "friend@alias-domain.test", "long srs0");
    const forwarded = await until("the forward", bySubject("long srs0"));
    const srs0 = forwarded.transaction.sender;
    expect(srs0).toMatch(/^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=mail\.a-rather-long-company-name\.example=firstname\./);
    expect(localPartOf(srs0).length).toBeGreaterThan(64);
    await inbound("", srs0, "long srs0 bounce");
    const back = await until("the bounce at the sender", bySubject("long srs0 bounce"));
    expect(back.transaction.sender).toBe("");
    expect(back.transaction.recipients.map((r) => r.address)).toEqual([LONG_SENDER]);
  });

  test("a bounce to the SRS1 address of a long sender reaches the first hop", async () => {
    const first = new Srs({ secret: "the-first-hops-secret", domain: "relay.first-hop-forwarder.test" })
      .forward(LONG_SENDER);
    expect(localPartOf(first).length).toBeGreaterThan(64);
    await inbound(first, "friend@alias-domain.test", "long srs1");
    const forwarded = await until("the SRS1 forward", bySubject("long srs1"));
    const srs1 = forwarded.transaction.sender;
    expect(srs1).toMatch(/^SRS1=[A-Za-z0-9+/]{4}=relay\.first-hop-forwarder\.test==/);
    expect(localPartOf(srs1).length).toBeGreaterThan(100);
    await inbound("", srs1, "long srs1 bounce");
    const back = await until("the bounce at the first hop", bySubject("long srs1 bounce"));
    expect(back.transaction.recipients.map((r) => r.address)).toEqual([first]);
  });

  test("a local part past 255 octets is refused at RCPT with 501 5.1.3", async () => {
    const error = await inbound("someone@origin.test", `${"x".repeat(256)}@alias-domain.test`, "too long")
      .catch((e: { response?: string }) => e.response);
    expect(error).toMatch(/^501 5\.1\.3/);
  });
});
