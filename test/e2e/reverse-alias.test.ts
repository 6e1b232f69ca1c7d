/**
 * Reply through the alias (reverse aliases, issue 19) end to end, with `postern serve` on the
 * runtime named by POSTERN_TEST_RUNTIME: a correspondent writes to an alias of a domain with
 * reverse aliases on; the owner's mailbox gets it with a Reply-To naming a reverse address; the
 * owner replies through submission to that address; the remote MX gets the reply from the alias,
 * DKIM-signed for the alias domain (verified with mailauth against the record `postern dkim
 * generate` printed), with the owner's address nowhere in it. Anyone else is refused.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { createResolver } from "../../src/net/dns.ts";
import { listen, type Listener } from "../../src/net/listener.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";
import { until } from "../helpers/until.ts";

const OWNER = "me@example.test";

const remote = new RecordingBackend();
let mx: Listener;
let mail: MailServer;

beforeAll(async () => {
  mx = await listen(await remoteMxOptions(remote));
  mail = await startMailServer({
    waitFor: ["smtp", "submission"],
    users: { [OWNER]: "owner-password", "stranger@example.test": "stranger-password" },
    config: {
      // As in the README's guide: the forwarder is named under the alias domain, whose key seals.
      hostname: "mx.alias-domain.test",
      delivery: { transport: { "*": `127.0.0.1:${mx.address().port}` }, retryDelay: 1 },
      srs: { secret: "srs-secret-for-reverse-aliases" },
    },
    setup: [
      ["domain", "add", "alias-domain.test", "--forward"],
      ["alias", "add", "friend@alias-domain.test", OWNER],
      ["alias", "add", "far@alias-domain.test", "you@remote-mailbox.test"],
      ["alias", "reverse", "alias-domain.test", "on"],
      ["domain", "add", "plain-alias.test", "--forward"],
      ["alias", "add", "plain@plain-alias.test", OWNER],
    ],
  });
  const generated = await mail.server.cli(["dkim", "generate", "alias-domain.test", "--selector", "fwd"]);
  const record = /^(fwd\._domainkey\.alias-domain\.test)\. IN TXT "(v=DKIM1; [^"]+)"$/m.exec(generated.stdout);
  if (!record) throw new Error(`dkim generate: ${generated.stdout} ${generated.stderr}`);
  mail.dns.add(record[1]!, { type: "TXT", text: record[2]! });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
});

function inbound(from: string, to: string, raw: string) {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "mx.origin.test" })
    .sendMail({ envelope: { from, to: [to] }, raw });
}

function submit(user: string, password: string, to: string, raw: string) {
  return nodemailer
    .createTransport({
      host: "127.0.0.1",
      port: mail.server.ports.submission,
      requireTLS: true,
      name: "laptop.example.test",
      tls: { rejectUnauthorized: false },
      auth: { user, pass: password },
    })
    .sendMail({ envelope: { from: user, to: [to] }, raw });
}

const refusal = (e: { response?: string }) => e.response;
let reverseAddress = "";

describe(`reverse aliases on ${runtime()}`, () => {
  test("forwarded mail reaches the owner with a Reply-To naming the correspondent's reverse address", async () => {
    await inbound(
      "bounces@origin.test",
      "friend@alias-domain.test",
      "From: Jane Doe <jane@origin.test>\r\nTo: friend@alias-domain.test\r\nSubject: hello there\r\n" +
        "Message-ID: <first@origin.test>\r\n\r\nhi\r\n",
    );
    const got = await until(
      "the owner's copy",
      async () => (await readInbox(mail.dataDir, OWNER)).find((m) => m.raw.includes("Subject: hello there")),
    );
    const m = /^Reply-To: "Jane Doe" <(r\+[a-z2-7]{20}@alias-domain\.test)>\r$/m.exec(got.raw);
    expect(m).not.toBeNull();
    reverseAddress = m![1]!;
    // The summary IMAP and JMAP show was computed from the rewritten copy.
    expect(JSON.stringify(got.summary)).toContain(reverseAddress);
    // A second message from the same correspondent gets the same reverse address.
    await inbound(
      "bounces@origin.test",
      "friend@alias-domain.test",
      "From: Jane Doe <jane@origin.test>\r\nTo: friend@alias-domain.test\r\nSubject: again\r\n\r\nhi\r\n",
    );
    const again = await until(
      "the second copy",
      async () => (await readInbox(mail.dataDir, OWNER)).find((m) => m.raw.includes("Subject: again")),
    );
    expect(again.raw).toContain(`<${reverseAddress}>`);
  });

  test("an alias of a domain without reverse aliases leaves Reply-To alone", async () => {
    await inbound(
      "jane@origin.test",
      "plain@plain-alias.test",
      "From: jane@origin.test\r\nReply-To: desk@origin.test\r\nSubject: plain one\r\n\r\nhi\r\n",
    );
    const got = await until(
      "the plain copy",
      async () => (await readInbox(mail.dataDir, OWNER)).find((m) => m.raw.includes("Subject: plain one")),
    );
    expect(got.raw).toContain("Reply-To: desk@origin.test\r\n");
    expect(got.raw).not.toContain("r+");
  });

  test("the owner's reply leaves from the alias, DKIM-signed for the alias domain, without the owner's address", async () => {
    expect(reverseAddress).not.toBe("");
    await submit(
      OWNER,
      "owner-password",
      reverseAddress,
      `From: Me Myself <${OWNER}>\r\nSender: ${OWNER}\r\nReply-To: ${OWNER}\r\nReturn-Path: <${OWNER}>\r\n` +
        `To: "Jane Doe" <${reverseAddress}>\r\nSubject: Re: hello there\r\nMessage-ID: <reply-1@laptop.test>\r\n` +
        "In-Reply-To: <first@origin.test>\r\n\r\nThanks, Jane.\r\n",
    );
    const got = await until(
      "the reply at the remote MX",
      () => remote.received.find((r) => r.content.includes("Subject: Re: hello there")),
    );
    expect(got.transaction.sender).toBe("friend@alias-domain.test");
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["jane@origin.test"]);
    expect(got.content.toLowerCase()).not.toContain(OWNER);
    expect(got.content).toMatch(/^From: "Me Myself" <friend@alias-domain\.test>\r$/m);
    expect(got.content).toMatch(/^To: "Jane Doe" <jane@origin\.test>\r$/m);
    expect(got.content).toMatch(/^Message-ID: <reply-1@laptop\.test>\r$/m);
    expect(got.content).not.toMatch(/^(Sender|Reply-To|Return-Path):/im);

    const { authenticate } = await import("mailauth");
    const result = await authenticate(Buffer.from(got.content), {
      ip: "127.0.0.1",
      helo: "mx.alias-domain.test",
      sender: "friend@alias-domain.test",
      mta: "mx.remote.test",
      resolver: createResolver([`127.0.0.1:${mail.dns.port}`]) as never,
    });
    const dkim = result.dkim.results as Array<{ signingDomain?: string; status: { result: string } }>;
    expect(dkim.map((r) => [r.signingDomain, r.status.result])).toEqual([["alias-domain.test", "pass"]]);
  });

  test("a copy forwarded elsewhere keeps its Reply-To, is ARC-sealed and DKIM-signed by the alias domain", async () => {
    await inbound(
      "jane@origin.test",
      "far@alias-domain.test",
      "From: Jane Doe <jane@origin.test>\r\nReply-To: desk@origin.test\r\nTo: far@alias-domain.test\r\n" +
        "Subject: to a remote target\r\n\r\nhi\r\n",
    );
    const got = await until(
      "the forwarded copy",
      () => remote.received.find((r) => r.content.includes("Subject: to a remote target")),
    );
    expect(got.transaction.sender).toMatch(
      /^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=origin\.test=jane@mx\.alias-domain\.test$/,
    );
    expect(got.content).toContain("Reply-To: desk@origin.test\r\n");
    expect(got.content).toMatch(/^ARC-Seal: i=1;[^]*d=alias-domain\.test/m);
    const { authenticate } = await import("mailauth");
    const result = await authenticate(Buffer.from(got.content), {
      ip: "127.0.0.1",
      helo: "mx.alias-domain.test",
      sender: got.transaction.sender,
      mta: "mx.remote.test",
      resolver: createResolver([`127.0.0.1:${mail.dns.port}`]) as never,
    });
    const dkim = result.dkim.results as Array<{ signingDomain?: string; status: { result: string } }>;
    expect(dkim.map((r) => [r.signingDomain, r.status.result])).toEqual([["alias-domain.test", "pass"]]);
    expect((result.arc as { status: { result: string } }).status.result).toBe("pass");
  });

  test("anyone but the owner is refused at RCPT: another account, and mail from outside", async () => {
    expect(reverseAddress).not.toBe("");
    const raw = `Subject: sneaky\r\nTo: ${reverseAddress}\r\n\r\nhi\r\n`;
    expect(
      await submit(
        "stranger@example.test",
        "stranger-password",
        reverseAddress,
        "From: stranger@example.test\r\n" + raw,
      )
        .catch(refusal),
    ).toMatch(/^550 5\.7\.1/);
    expect(await inbound("eve@evil.test", reverseAddress, "From: eve@evil.test\r\n" + raw).catch(refusal))
      .toMatch(/^550 5\.7\.1/);
    expect(remote.received.some((r) => r.content.includes("Subject: sneaky"))).toBe(false);
  });

  test("a reverse address that was never made (a forged token) is unknown", async () => {
    const forged = reverseAddress.replace(/^r\+[a-z2-7]{4}/, "r+aaaa");
    expect(forged).not.toBe(reverseAddress);
    expect(
      await submit(OWNER, "owner-password", forged, `From: ${OWNER}\r\nSubject: forged\r\n\r\nhi\r\n`)
        .catch(refusal),
    ).toMatch(/^550 5\.1\.1/);
  });
});
