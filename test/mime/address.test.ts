import { describe, expect, test } from "bun:test";
import { parseAddressList } from "../../src/mime/address-list.ts";
import { buildEnvelope } from "../../src/mime/envelope.ts";
import { parseHeaderFields } from "../../src/mime/header.ts";
import { crlf, enc } from "./fixtures.ts";

describe("parseAddressList", () => {
  test("a stray closing parenthesis or angle bracket is skipped (it once looped forever; found by test/fuzz)", () => {
    expect(parseAddressList(")")).toEqual([]);
    expect(parseAddressList("a)@b.test, >c@d.test")).toEqual([
      { name: null, address: "a@b.test" },
      { name: null, address: "c@d.test" },
    ]);
  });

  test("groups, quoted names with commas, comments as names", () => {
    expect(parseAddressList('team: a@x.test, "Doe, Jane" <jane@x.test>;, bob@x.test (Bob Smith)')).toEqual([
      {
        group: "team",
        addresses: [{ name: null, address: "a@x.test" }, { name: "Doe, Jane", address: "jane@x.test" }],
      },
      { name: "Bob Smith", address: "bob@x.test" },
    ]);
    expect(parseAddressList("undisclosed-recipients:;")).toEqual([{ group: "undisclosed-recipients", addresses: [] }]);
  });

  test("display names: atoms, escapes, RFC 2047 (decoded unless asked not to), comments inside", () => {
    expect(parseAddressList('John Q. Public <jqp@x.test>, "a \\"b\\"" <ab@x.test>')).toEqual([
      { name: "John Q. Public", address: "jqp@x.test" },
      { name: 'a "b"', address: "ab@x.test" },
    ]);
    expect(parseAddressList("=?UTF-8?B?SsO2cmc=?= <j@x.test>")).toEqual([{ name: "Jörg", address: "j@x.test" }]);
    expect(parseAddressList("=?UTF-8?B?SsO2cmc=?= <j@x.test>", { decode: false })).toEqual([{
      name: "=?UTF-8?B?SsO2cmc=?=",
      address: "j@x.test",
    }]);
    expect(parseAddressList("Pete(A nice \\) chap) <pete(his account)@silly.test(his host)>")).toEqual([
      { name: "Pete", address: "pete@silly.test" },
    ]);
  });

  test("comments and white space around the @ of a bare addr-spec (RFC 5322 §3.4.1 CFWS)", () => {
    expect(parseAddressList("joe(the boss)@example.com")).toEqual([{ name: "the boss", address: "joe@example.com" }]);
    expect(parseAddressList("joe @ example.com, ann.(x) lee@example.org")).toEqual([
      { name: null, address: "joe@example.com" },
      { name: "x", address: "ann.lee@example.org" },
    ]);
  });

  test("obsolete routes, quoted local parts, bare names, junk", () => {
    expect(parseAddressList("<@relay.test,@hop.test:user@host.test>")).toEqual([{
      name: null,
      address: "user@host.test",
      route: "@relay.test,@hop.test",
    }]);
    expect(parseAddressList('"john doe"@x.test')).toEqual([{ name: null, address: '"john doe"@x.test' }]);
    expect(parseAddressList("root")).toEqual([{ name: null, address: "root" }]);
    expect(parseAddressList(" , ,<>, a@b.test,")).toEqual([{ name: null, address: "a@b.test" }]);
    expect(parseAddressList("Ann <ann@x.test")).toEqual([{ name: "Ann", address: "ann@x.test" }]);
    expect(() => parseAddressList('((((<<<"\\')).not.toThrow();
  });
});

describe("buildEnvelope", () => {
  const envelope = (lines: string[]) => buildEnvelope(parseHeaderFields(enc.encode(crlf(lines))));

  test("Sender and Reply-To default to From (RFC 9051 §7.5.2)", () => {
    const e = envelope(["From: A <a@x.test>", "Subject: hi", ""]);
    expect(e.from).toEqual([{ name: "A", mailbox: "a", host: "x.test" }]);
    expect(e.sender).toEqual(e.from);
    expect(e.replyTo).toEqual(e.from);
    expect(e.to).toBeNull();
    expect(e.date).toBeNull();
  });

  test("explicit Sender and Reply-To win; strings stay as written", () => {
    const e = envelope([
      "From: =?UTF-8?B?SsO2cmc=?= <j@x.test>",
      "Sender: s@x.test",
      "Reply-To: r@x.test",
      "Subject: =?UTF-8?Q?caf=C3=A9?=",
      "Date: Mon, 23 Nov 2026 10:00:00 +0100",
      "Message-ID: <id@x.test>",
      "In-Reply-To: <prev@x.test>",
      "",
    ]);
    expect(e.from![0]!.name).toBe("=?UTF-8?B?SsO2cmc=?=");
    expect(e.sender).toEqual([{ name: null, mailbox: "s", host: "x.test" }]);
    expect(e.replyTo).toEqual([{ name: null, mailbox: "r", host: "x.test" }]);
    expect(e.subject).toBe("=?UTF-8?Q?caf=C3=A9?=");
    expect(e.date).toBe("Mon, 23 Nov 2026 10:00:00 +0100");
    expect(e.messageId).toBe("<id@x.test>");
    expect(e.inReplyTo).toBe("<prev@x.test>");
  });

  test("groups become start and end markers", () => {
    const e = envelope(["To: team: a@x.test;, b@y.test", "Cc: empty:;", ""]);
    expect(e.to).toEqual([
      { name: null, mailbox: "team", host: null },
      { name: null, mailbox: "a", host: "x.test" },
      { name: null, mailbox: null, host: null },
      { name: null, mailbox: "b", host: "y.test" },
    ]);
    expect(e.cc).toEqual([
      { name: null, mailbox: "empty", host: null },
      { name: null, mailbox: null, host: null },
    ]);
  });
});
