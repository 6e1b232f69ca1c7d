import { describe, expect, test } from "bun:test";
import { ReverseAddresses } from "../../src/forward/reverse-alias.ts";
import { asAliasReply, correspondentsOf, withReverseReplyTo } from "../../src/forward/reverse-headers.ts";
import { Srs } from "../../src/forward/srs.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const reverse = new ReverseAddresses(new Srs({ secret: "s3cret", domain: "mx.test" }).deriveKey("reverse alias"));

describe("reverse addresses", () => {
  test("one per alias and correspondent, the same every time, case aside", () => {
    const a = reverse.address("friend@alias.test", "jane@origin.test");
    expect(a).toMatch(/^r\+[a-z2-7]{20}@alias\.test$/);
    expect(reverse.address("Friend@alias.test", "Jane@Origin.test")).toBe(a);
    expect(reverse.address("friend@alias.test", "john@origin.test")).not.toBe(a);
    expect(reverse.address("other@alias.test", "jane@origin.test")).not.toBe(a);
  });

  test("a token is checked against what it maps to and the key that made it", () => {
    const token = reverse.token("friend@alias.test", "jane@origin.test");
    expect(reverse.verify({ token, alias: "friend@alias.test", correspondent: "jane@origin.test" })).toBe(true);
    expect(reverse.verify({ token, alias: "friend@alias.test", correspondent: "eve@origin.test" })).toBe(false);
    const other = new ReverseAddresses(new Srs({ secret: "other", domain: "mx.test" }).deriveKey("reverse alias"));
    expect(other.verify({ token, alias: "friend@alias.test", correspondent: "jane@origin.test" })).toBe(false);
    // Not the SRS hash under another name.
    expect(new Srs({ secret: "s3cret", domain: "mx.test" }).deriveKey("srs")).not.toEqual(
      new Srs({ secret: "s3cret", domain: "mx.test" }).deriveKey("reverse alias"),
    );
  });

  test("tokenOf reads r+<token> local parts only", () => {
    const token = reverse.token("friend@alias.test", "jane@origin.test");
    expect(ReverseAddresses.tokenOf(`r+${token}`)).toBe(token);
    expect(ReverseAddresses.tokenOf(`R+${token.toUpperCase()}`)).toBe(token);
    expect(ReverseAddresses.tokenOf(`r+${token}x`)).toBeNull();
    expect(ReverseAddresses.tokenOf("r+short")).toBeNull();
    expect(ReverseAddresses.tokenOf(`x+${token}`)).toBeNull();
  });
});

describe("reverse alias headers", () => {
  const inbound = enc.encode(
    "Received: from mx.origin.test\r\nFrom: Jane Doe <jane@origin.test>\r\nReply-To: lists@origin.test\r\n" +
      "To: friend@alias.test\r\nSubject: hello\r\n\r\nbody\r\n",
  );

  test("correspondents: Reply-To, else From, else the envelope sender", () => {
    expect(correspondentsOf(inbound, "bounce@origin.test").map((c) => c.address)).toEqual(["lists@origin.test"]);
    const noReplyTo = enc.encode("From: Jane Doe <jane@origin.test>\r\n\r\nx\r\n");
    expect(correspondentsOf(noReplyTo, "b@origin.test")).toEqual([{ name: "Jane Doe", address: "jane@origin.test" }]);
    expect(correspondentsOf(enc.encode("Subject: x\r\n\r\n"), "b@origin.test")).toEqual([
      { name: null, address: "b@origin.test" },
    ]);
    expect(correspondentsOf(enc.encode("Subject: x\r\n\r\n"), "")).toEqual([]);
  });

  test("withReverseReplyTo replaces Reply-To and keeps every other byte", () => {
    const out = dec.decode(withReverseReplyTo(inbound, [{
      correspondent: { name: "Jane Doe", address: "jane@origin.test" },
      address: "r+abcdefghijklmnopqrst@alias.test",
    }]));
    expect(out).toBe(
      "Received: from mx.origin.test\r\nFrom: Jane Doe <jane@origin.test>\r\n" +
        'To: friend@alias.test\r\nSubject: hello\r\nReply-To: "Jane Doe" <r+abcdefghijklmnopqrst@alias.test>\r\n' +
        "\r\nbody\r\n",
    );
  });

  test("asAliasReply leaves from the alias, names the correspondent, and drops every trace of the owner", () => {
    const reply = enc.encode(
      "Authentication-Results: mx.test; auth=pass smtp.auth=me@real.test\r\n" +
        "Received: from laptop ([192.0.2.7])\r\n\tby mx.test with ESMTPSA\r\n" +
        "From: Me Myself <me@real.test>\r\nSender: me@real.test\r\nReply-To: me@real.test\r\n" +
        "Return-Path: <me@real.test>\r\nDisposition-Notification-To: me@real.test\r\n" +
        "To: Jane <R+ABCDEFGHIJKLMNOPQRST@alias.test>, other@else.test\r\nCc: me2@real.test\r\n" +
        "Subject: Re: hello\r\nMessage-ID: <reply-1@real.test>\r\nIn-Reply-To: <orig@origin.test>\r\n\r\nthanks\r\n",
    );
    const out = dec.decode(asAliasReply(reply, {
      alias: "friend@alias.test",
      owner: ["me@real.test", "me@real.test"],
      correspondents: new Map([["r+abcdefghijklmnopqrst@alias.test", "jane@origin.test"]]),
    }));
    expect(out).not.toContain("me@real.test");
    expect(out).not.toContain("192.0.2.7");
    expect(out).toContain('\r\nFrom: "Me Myself" <friend@alias.test>\r\n');
    expect(out).toContain("\r\nTo: Jane <jane@origin.test>, other@else.test\r\n");
    expect(out).toContain("Cc: me2@real.test\r\n");
    expect(out).toContain("Message-ID: <reply-1@real.test>\r\nIn-Reply-To: <orig@origin.test>\r\n");
    expect(out).not.toMatch(/^(Sender|Reply-To|Return-Path|Received|Authentication-Results):/im);
    expect(out.endsWith("\r\n\r\nthanks\r\n")).toBe(true);
  });
});
