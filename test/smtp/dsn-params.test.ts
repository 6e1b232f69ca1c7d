/**
 * Issue 18, finding 3: ENVID, ORCPT and AUTH= are xtext whose decoded value must be printable
 * US-ASCII (RFC 3461 §4, RFC 4954 §5); anything else is `501 5.5.4`, as Postfix answers, and a
 * delivery status notification never carries a decoded CR or LF into a header field.
 */
import { describe, expect, test } from "bun:test";
import { parseCommand } from "../../src/smtp/command.ts";
import { buildDsn } from "../../src/queue/dsn.ts";
import { decodePrintableXtext, decodeXtext, encodeXtext } from "../../src/smtp/xtext.ts";
import { Harness } from "./session-harness.ts";

function replyOf(line: string): string {
  const parsed = parseCommand(line);
  return parsed.ok ? "ok" : `${parsed.reply.code} ${parsed.reply.enhanced} ${parsed.reply.lines.join(" ")}`;
}

describe("xtext (RFC 3461 §4)", () => {
  test("hexchars decode to any octet; only printable US-ASCII passes the value check", () => {
    expect(decodeXtext("a+0D+0Ab")).toBe("a\r\nb");
    expect(decodePrintableXtext("a+0D+0Ab")).toBeNull();
    expect(decodePrintableXtext("a+00")).toBeNull();
    expect(decodePrintableXtext("a+7F")).toBeNull();
    expect(decodePrintableXtext("a+C3+A9")).toBeNull();
    expect(decodePrintableXtext("abc+2B1+20x")).toBe("abc+1 x");
  });

  test("xtext grammar: lower-case hex, a lone +, = and spaces are refused", () => {
    for (const bad of ["+0d", "+4", "a=b", "+", "a b", "+ZZ"]) expect(decodeXtext(bad)).toBeNull();
  });

  test("encoding is the inverse, octet by octet of UTF-8", () => {
    expect(encodeXtext("a+b=c\r\n")).toBe("a+2Bb+3Dc+0D+0A");
    expect(encodeXtext("é")).toBe("+C3+A9");
    expect(decodeXtext(encodeXtext("x+y=z"))).toBe("x+y=z");
  });
});

describe("MAIL and RCPT parameters", () => {
  const refused = [
    ["MAIL FROM:<a@b.test> ENVID=x+0D+0ABcc:+20victim@c.test", "ENVID"],
    ["MAIL FROM:<a@b.test> ENVID=x+0A", "ENVID"],
    ["MAIL FROM:<a@b.test> ENVID=x+00", "ENVID"],
    ["MAIL FROM:<a@b.test> ENVID=", "ENVID"],
    ["MAIL FROM:<a@b.test> ENVID", "ENVID"],
    ["MAIL FROM:<a@b.test> AUTH=a+40b.test+0D+0AX:+20y", "AUTH"],
    ["MAIL FROM:<a@b.test> AUTH=not-an-address", "AUTH"],
    ["MAIL FROM:<a@b.test> AUTH=+0D+0A", "AUTH"],
    ["RCPT TO:<a@b.test> ORCPT=rfc822;x+40y.test+0D+0ABcc:+20victim@c.test", "ORCPT"],
    ["RCPT TO:<a@b.test> ORCPT=rfc822;not-an-address", "ORCPT"],
    ["RCPT TO:<a@b.test> ORCPT=rfc(822);x+40y.test", "ORCPT"],
    ["RCPT TO:<a@b.test> ORCPT=rfc<822>;x+40y.test", "ORCPT"],
    ["RCPT TO:<a@b.test> ORCPT=x-type;a+0Db", "ORCPT"],
    ["RCPT TO:<a@b.test> ORCPT=;x", "ORCPT"],
    ["RCPT TO:<a@b.test> ORCPT=rfc822;" + "a".repeat(64) + "+40" + "b".repeat(440) + ".test", "ORCPT"],
  ] as const;
  for (const [line, name] of refused) {
    test(`${line.slice(0, 60)} → 501 5.5.4`, () => {
      expect(replyOf(line)).toBe(`501 5.5.4 Bad ${name} parameter syntax`);
    });
  }

  test("well-formed values are decoded and kept", () => {
    const mail = parseCommand("MAIL FROM:<a@b.test> ENVID=QQ+2B123+20x AUTH=a+2Bb+40c.test");
    expect(mail.ok && mail.command.verb === "MAIL" && mail.command.params).toMatchObject({
      envid: "QQ+123 x",
      auth: "a+b@c.test",
    });
    const nullAuth = parseCommand("MAIL FROM:<a@b.test> AUTH=<>");
    expect(nullAuth.ok && nullAuth.command.verb === "MAIL" && nullAuth.command.params.auth).toBe("<>");
    const rcpt = parseCommand("RCPT TO:<a@b.test> ORCPT=x-local;anything+20goes");
    expect(rcpt.ok && rcpt.command.verb === "RCPT" && rcpt.command.params.orcpt).toEqual({
      addrType: "x-local",
      address: "anything goes",
    });
  });

  test("HELO and EHLO refuse control characters", () => {
    for (const name of ["a\x00b.test", "a\x1bb.test", "a\rb.test", "a\tb.test", "a\x7fb"]) {
      expect(replyOf(`EHLO ${name}`)).toStartWith("501 5.5.4");
      expect(replyOf(`HELO ${name}`)).toStartWith("501 5.5.4");
    }
    expect(replyOf("EHLO [192.0.2.1]")).toBe("ok");
  });

  test("a session refuses the parameter and no message carries it", async () => {
    const h = new Harness();
    const replies = await h.send(
      "EHLO client.test\r\nMAIL FROM:<x@remote.test> ENVID=a+0D+0ABcc:+20v@c.test\r\n" +
        "MAIL FROM:<x@remote.test>\r\nRCPT TO:<alice@example.test> NOTIFY=SUCCESS ORCPT=rfc822;a+40b.test+0D+0AX:+20y\r\n" +
        "RCPT TO:<bob@example.test> NOTIFY=SUCCESS\r\nDATA\r\nSubject: s\r\n\r\nbody\r\n.\r\n",
    );
    expect(replies.filter((l) => l.startsWith("501"))).toEqual([
      "501 5.5.4 Bad ENVID parameter syntax",
      "501 5.5.4 Bad ORCPT parameter syntax",
    ]);
    expect(h.backend.delivered).toHaveLength(1);
    expect(h.backend.delivered[0]!.transaction.recipients.map((r) => r.address)).toEqual(["bob@example.test"]);
  });
});

describe("delivery status notifications", () => {
  test("a decoded CR or LF stored in ENVID or ORCPT never starts a header field of its own", () => {
    const dsn = new TextDecoder().decode(buildDsn({
      hostname: "mx.example.test",
      to: "x@remote.test",
      envid: "id\r\nBcc: victim@c.test",
      arrivalDate: new Date(0),
      recipients: [
        {
          address: "a@example.test",
          orcpt: "rfc822;a@b.test\r\nX-Injected: 1",
          action: "delivered",
          status: "2.0.0",
          diagnostic: "ok",
        },
        { address: "b@example.test", orcpt: "bad type\r\n;x", action: "delivered", status: "2.0.0", diagnostic: "ok" },
      ],
      original: new TextEncoder().encode("Subject: s\r\n\r\nbody\r\n"),
    }));
    const lines = dsn.split("\r\n");
    expect(lines.some((l) => /^(Bcc|X-Injected):/i.test(l))).toBe(false);
    expect(lines).toContain("Original-Envelope-Id: id+0D+0ABcc:+20victim@c.test");
    expect(lines).toContain("Original-Recipient: rfc822; a@b.test+0D+0AX-Injected:+201");
    expect(lines.filter((l) => l.startsWith("Original-Recipient:"))).toHaveLength(1);
    expect(/[^\r]\n|\r[^\n]/.test(dsn)).toBe(false);
  });
});
