/** RFC 5228 base language: the examples of the RFC, implicit keep, address parts, comparators and run-time errors. */
import { describe, expect, test } from "bun:test";
import { DEFAULT_MESSAGE, message, run, summary } from "./helpers.ts";

describe("RFC 5228", () => {
  test("§2.10.2: no actions means the implicit keep", () => {
    expect(summary(run("# nothing"))).toEqual(["implicit keep"]);
  });

  test("§9 example script", () => {
    // The RFC's closing example, slightly adapted to this message.
    const script = `
      require "fileinto";
      if header :is "Sender" "owner-ietf-mta-filters@imc.org" {
        fileinto "filter";  # move to "filter" mailbox
      } elsif address :DOMAIN :is ["From", "To"] "example.com" {
        keep;               # keep in "In" mailbox
      } elsif anyof (NOT address :all :contains ["To", "Cc", "Bcc"] "me@example.com",
                     header :matches "subject" ["*make*money*fast*", "*university*dipl*mas*"]) {
        fileinto "spam";   # move to "spam" mailbox
      } else {
        fileinto "personal";
      }`;
    expect(summary(run(script))).toEqual(["keep"]);
    const spam = message("From: x@spam.test", "To: me@example.net", "Subject: Make lots of Money fast", "", "");
    expect(summary(run(script, { raw: spam }))).toEqual(["fileinto spam"]);
    const sender = message("Sender: owner-ietf-mta-filters@imc.org", "To: me@example.com", "", "");
    expect(summary(run(script, { raw: sender }))).toEqual(["fileinto filter"]);
  });

  test("§4.2 redirect cancels the implicit keep; duplicates are performed once (§2.10.3)", () => {
    expect(summary(run('redirect "a@example.net"; redirect "A@example.net";'))).toEqual(["redirect a@example.net"]);
  });

  test("§4.4 discard, §3.3 stop", () => {
    expect(summary(run("discard; stop; keep;"))).toEqual(["discard"]);
  });

  test("§5.1 address parts, §2.7.3 default comparator i;ascii-casemap", () => {
    const ok = (s: string) => summary(run(`if ${s} { discard; }`))[0] === "discard";
    expect(ok('address :localpart "from" "JANE"')).toBe(true);
    expect(ok('address :domain "to" "EXAMPLE.COM"')).toBe(true);
    expect(ok('address "from" "jane@example.org"')).toBe(true);
    expect(ok('address :all "from" "Jane Doe"')).toBe(false);
    expect(ok('header :contains "from" "Jane Doe"')).toBe(true);
    expect(ok('header :is :comparator "i;octet" "subject" "hello world"')).toBe(false);
    expect(ok('header :matches "subject" "H?llo *"')).toBe(true);
    expect(ok('header :matches "subject" "\\\\*"')).toBe(false);
  });

  test("§5.4 envelope: the null reverse-path matches as the empty string", () => {
    const script = 'require "envelope"; if envelope :localpart :is "from" "" { discard; }';
    expect(summary(run(script, { envelope: { from: "" } }))).toEqual(["discard"]);
    expect(summary(run(script))).toEqual(["implicit keep"]);
  });

  test("§5.5 exists needs every header; §5.9 size", () => {
    expect(summary(run('if exists ["from", "x-none"] { discard; }'))).toEqual(["implicit keep"]);
    expect(summary(run(`if size :under ${DEFAULT_MESSAGE.length + 1} { discard; }`))).toEqual(["discard"]);
    expect(summary(run(`if size :over ${DEFAULT_MESSAGE.length} { discard; }`))).toEqual(["implicit keep"]);
  });

  test("§2.7.2: header tests decode RFC 2047 words", () => {
    const raw = message("Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?=", "", "");
    expect(summary(run('if header :is "subject" "Grüße" { discard; }', { raw }))).toEqual(["discard"]);
  });

  test("§2.10.6: a run-time error ends in the implicit keep and reports the position", () => {
    const r = run('require ["reject", "fileinto"];\nfileinto "A";\nreject "no";');
    expect(summary(r)).toEqual(["implicit keep"]);
    expect(r.error?.message).toBe("line 3, column 1: reject conflicts with an earlier action");
  });
});
