/** The extensions, each with the examples of its RFC where it has some. */
import { describe, expect, test } from "bun:test";
import { compileSieve } from "../../src/sieve/index.ts";
import { compile, message, run, summary } from "./helpers.ts";

describe("RFC 5229 variables", () => {
  test("§3.2 match variables from :matches", () => {
    const raw = message("Subject: [acme-users] [fwd] version 1.0 is out", "", "");
    const script = `require ["fileinto", "variables"];
      if header :matches "Subject" "[*] *" { fileinto "lists.\${1}"; }`;
    expect(summary(run(script, { raw }))).toEqual(["fileinto lists.acme-users"]);
  });

  test("§3.2 example: ${0} the whole match, ? and * in order", () => {
    const raw = message("Subject: Hello World", "", "");
    const script = `require ["fileinto", "variables"];
      if header :matches "subject" "?ello *" { fileinto "\${0}|\${1}|\${2}|\${3}"; }`;
    expect(summary(run(script, { raw }))).toEqual(["fileinto Hello World|H|World|"]);
  });

  test("§4 set modifiers, in precedence order", () => {
    const script = `require ["variables", "fileinto"];
      set "a" "juMBlEd lETteRS";
      set :length "len" "\${a}";
      set :lower :upperfirst "b" "\${a}";
      set :upperfirst :lower "c" "\${a}";
      set :quotewildcard "q" "Rock*";
      fileinto "\${len}/\${b}/\${c}/\${q}";`;
    expect(summary(run(script))).toEqual(["fileinto 15/Jumbled letters/Jumbled letters/Rock\\*"]);
  });

  test("§5 string test; unknown variables are empty; names are case-insensitive", () => {
    const script = `require ["variables"];
      set "Name" "x";
      if string :is "\${name}\${unknown}" "x" { discard; }`;
    expect(summary(run(script))).toEqual(["discard"]);
  });

  test("values are truncated at the limit", () => {
    const script = `require ["variables", "fileinto"]; set "a" "abcdef"; fileinto "\${a}";`;
    expect(summary(run(script, { limits: { variableSize: 3 } }))).toEqual(["fileinto abc"]);
  });
});

describe("RFC 5232 imap4flags", () => {
  test("§6 example: flags follow the internal variable to the implicit keep", () => {
    const script = `require ["imap4flags", "fileinto"];
      addflag "\\\\Flagged";
      if header :contains "subject" "hello" { addflag ["\\\\Seen", "$Work \\\\flagged"]; }
      removeflag "\\\\Seen";`;
    expect(summary(run(script))).toEqual(["implicit keep [\\Flagged $Work]"]);
  });

  test(":flags on fileinto and keep replace the internal variable for that action", () => {
    const script = `require ["imap4flags", "fileinto"];
      setflag "a";
      fileinto :flags "b c" "X";
      fileinto "Y";
      keep :flags "";`;
    expect(summary(run(script))).toEqual(["fileinto X [b c]", "fileinto Y [a]", "keep"]);
  });

  test("storing twice into one mailbox keeps the last store's flags, as Pigeonhole does", () => {
    const script = `require ["imap4flags", "fileinto"];
      fileinto :flags "a" "X";
      fileinto :flags "b c" "X";`;
    expect(summary(run(script))).toEqual(["fileinto X [b c]"]);
  });

  test("hasflag on a variable", () => {
    const script = `require ["imap4flags", "variables"];
      addflag "v" "one two";
      if hasflag :is "v" "two" { discard; }`;
    expect(summary(run(script))).toEqual(["discard"]);
  });
});

describe("RFC 5230 vacation and RFC 6131 vacation-seconds", () => {
  test("§4 example with :days, :subject, :from, :addresses, :handle", () => {
    const r = run(`require "vacation";
      vacation :days 23 :addresses ["tjs@example.edu", "ts4z@landru.example.edu"] :subject "Gone fishing"
        :from "tjs@example.edu" :handle "fishing" "I'm away until October 19.";`);
    expect(r.actions[0]).toEqual({
      type: "vacation",
      reason: "I'm away until October 19.",
      subject: "Gone fishing",
      from: "tjs@example.edu",
      addresses: ["tjs@example.edu", "ts4z@landru.example.edu"],
      mime: false,
      handle: "fishing",
      seconds: 23 * 86_400,
    });
    expect(summary(r)[1]).toBe("implicit keep");
  });

  test(":seconds is clamped to the site's minimum; a second vacation is an error", () => {
    const script = 'require "vacation-seconds"; vacation :seconds 60 "brb";';
    expect(summary(run(script))).toEqual(["vacation 86400s brb", "implicit keep"]);
    expect(summary(run(script, { limits: { vacationMinPeriod: 0 } }))).toEqual(["vacation 60s brb", "implicit keep"]);
    expect(run('require "vacation"; vacation "a"; vacation "b";').error?.detail).toBe("only one vacation is allowed");
  });
});

describe("RFC 5231 relational, RFC 4790 i;ascii-numeric", () => {
  const raw = message("To: a@x.test, b@x.test", "Cc: c@x.test", "X-Priority: 10", "", "");
  const ok = (test: string) =>
    summary(run(`require ["relational", "comparator-i;ascii-numeric"]; if ${test} { discard; }`, { raw }))[0] ===
      "discard";

  test(":count counts addresses; :value compares numerically", () => {
    expect(ok('address :count "ge" :comparator "i;ascii-numeric" ["to", "cc"] "3"')).toBe(true);
    expect(ok('address :count "gt" :comparator "i;ascii-numeric" ["to", "cc"] "3"')).toBe(false);
    expect(ok('header :value "gt" :comparator "i;ascii-numeric" "x-priority" "9"')).toBe(true);
    expect(ok('header :value "gt" "x-priority" "9"')).toBe(false); // "10" < "9" as text
    expect(ok('header :value "lt" :comparator "i;ascii-numeric" "subject" "1"')).toBe(false); // no Subject
  });

  test("non-digits are positive infinity; :contains is refused with i;ascii-numeric", () => {
    expect(ok('header :value "gt" :comparator "i;ascii-numeric" "to" "99999"')).toBe(true);
    const r = compileSieve(
      'require "comparator-i;ascii-numeric"; if header :contains :comparator "i;ascii-numeric" "to" "1" {}',
    );
    expect(r.ok ? "" : r.error.detail).toBe("comparator 'i;ascii-numeric' does not support :contains");
  });
});

describe("RFC 5233 subaddress", () => {
  test(":user and :detail with the default separator", () => {
    const script = `require ["envelope", "subaddress", "fileinto"];
      if envelope :detail "to" "lists" { fileinto "lists"; }
      if envelope :user "to" "bob" { fileinto "bob"; }
      if address :detail "from" "" { fileinto "never"; }`;
    expect(summary(run(script))).toEqual(["fileinto lists", "fileinto bob"]);
    expect(summary(run(script, { envelope: { to: "bob-lists@example.net" }, env: { separator: "-" } }))).toEqual([
      "fileinto lists",
      "fileinto bob",
    ]);
  });
});

describe("RFC 3894 copy, RFC 5429 reject, RFC 5490 mailbox", () => {
  test(":copy keeps the implicit keep", () => {
    const script = 'require ["copy", "fileinto"]; redirect :copy "a@x.test"; fileinto :copy "B";';
    expect(summary(run(script))).toEqual(["redirect a@x.test :copy", "fileinto B :copy", "implicit keep"]);
  });

  test("reject and ereject cancel the keep; a second reject is an error", () => {
    expect(summary(run('require "ereject"; ereject "no";'))).toEqual(["ereject no"]);
    expect(run('require "reject"; reject "a"; reject "b";').error?.detail).toBe("only one reject is allowed");
  });

  test("fileinto :create and mailboxexists", () => {
    const script = `require ["fileinto", "mailbox"];
      if mailboxexists "Lists" { fileinto "Lists"; } else { fileinto :create "New"; }`;
    expect(summary(run(script))).toEqual(["fileinto New :create"]);
    expect(summary(run(script, { env: { mailboxExists: (m) => m === "Lists" } }))).toEqual(["fileinto Lists"]);
  });
});

describe("RFC 5228 §2.4.2.4 encoded-character", () => {
  test("hex octets as UTF-8 and unicode code points", () => {
    const script = 'require ["encoded-character", "fileinto"]; fileinto "${hex:C3 BC}-${unicode:1F600}-${hex:zz}";';
    expect(summary(run(script))).toEqual(["fileinto ü-😀-${hex:zz}"]);
  });
});

describe("RFC 5260 date and index", () => {
  const raw = message(
    "Received: from b by c; Tue, 24 Nov 2026 09:00:05 +0000",
    "Received: from a by b; Mon, 23 Nov 2026 23:59:00 -0500",
    "Date: Tue, 24 Nov 2026 10:00:00 +0100",
    "",
    "",
  );
  const parts = (test: string, env = {}) =>
    summary(run(`require ["date", "index", "variables", "fileinto"]; if ${test} { fileinto "\${1}"; }`, { raw, env }));

  test("date parts in the local zone, :zone and :originalzone", () => {
    expect(parts('date :matches "date" "iso8601" "*"')).toEqual(["fileinto 2026-11-24T09:00:00+00:00"]);
    expect(parts('date :originalzone :matches "date" "std11" "*"')).toEqual([
      "fileinto Tue, 24 Nov 2026 10:00:00 +0100",
    ]);
    expect(parts('date :zone "-0800" :matches "date" "time" "*"')).toEqual(["fileinto 01:00:00"]);
    expect(parts('date :matches "date" "julian" "*"')).toEqual(["fileinto 61368"]);
    expect(parts('date :matches "date" "weekday" "*"')).toEqual(["fileinto 2"]);
    expect(parts('date :matches "date" "zone" "*"', { zoneOffset: 330 })).toEqual(["fileinto +0530"]);
  });

  test(":index picks a field, :last counts from the end; Received dates follow the ';'", () => {
    expect(parts('date :index 2 :matches "received" "date" "*"')).toEqual(["fileinto 2026-11-24"]);
    expect(parts('header :index 1 :last :matches "received" "from * by*"')).toEqual(["fileinto a"]);
  });

  test("currentdate uses the environment's clock", () => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5);
    expect(parts('currentdate :matches "std11" "*"', { now })).toEqual(["fileinto Fri, 02 Jan 2026 03:04:05 +0000"]);
  });
});

describe("RFC 5173 body, regex draft", () => {
  const raw = message(
    "Content-Type: multipart/alternative; boundary=b",
    "",
    "--b",
    "Content-Type: text/plain; charset=utf-8",
    "Content-Transfer-Encoding: quoted-printable",
    "",
    "Gr=C3=BC=C3=9Fe, order 4711",
    "--b",
    "Content-Type: text/html",
    "",
    "<p>html part</p>",
    "--b--",
    "",
  );
  test(":text, :content and :raw", () => {
    const script = `require ["body", "fileinto"];
      if body :text :contains "Grüße" { fileinto "text"; }
      if body :content "text/html" :contains "<p>" { fileinto "html"; }
      if body :content "text/html" :contains "Grüße" { fileinto "never"; }
      if body :raw :contains "=C3=BC" { fileinto "raw"; }`;
    expect(summary(run(script, { raw }))).toEqual(["fileinto text", "fileinto html", "fileinto raw"]);
  });

  test(":regex captures; the body test sets no match variables (RFC 5173 §6)", () => {
    const script = `require ["body", "regex", "variables", "fileinto"];
      if header :regex "content-type" "boundary=(.)" { set "b" "\${1}"; }
      if body :regex "order ([0-9]+)" { fileinto "order-\${1}-\${b}"; }`;
    expect(summary(run(script, { raw }))).toEqual(["fileinto order-b-b"]);
  });

  test(":text turns HTML into text; :content keeps it", () => {
    const script = `require ["body", "fileinto"];
      if body :text :contains "<p>" { fileinto "tags"; }
      if body :text :contains "html part" { fileinto "text"; }`;
    expect(summary(run(script, { raw }))).toEqual(["fileinto text"]);
  });
});

describe("RFC 5235 spamtest/virustest, RFC 5183 environment, RFC 7352 duplicate", () => {
  test("spamtest and virustest read the policy results", () => {
    const script = `require ["spamtestplus", "virustest", "relational", "comparator-i;ascii-numeric", "fileinto"];
      if spamtest :value "ge" :comparator "i;ascii-numeric" "6" { fileinto "Junk"; }
      if spamtest :percent :value "gt" :comparator "i;ascii-numeric" "90" { fileinto "Very"; }
      if virustest :value "eq" :comparator "i;ascii-numeric" "5" { discard; }`;
    expect(summary(run(script))).toEqual(["implicit keep"]);
    expect(summary(run(script, { env: { spam: { score: 8, percent: 95 }, virus: 1 } }))).toEqual([
      "fileinto Junk",
      "fileinto Very",
    ]);
    expect(summary(run(script, { env: { virus: 5 } }))).toEqual(["discard"]);
  });

  test("environment items", () => {
    const script = 'require "environment"; if environment :is "phase" "during" { discard; }';
    expect(summary(run(script, { env: { items: { phase: "during" } } }))).toEqual(["discard"]);
    expect(summary(run(script))).toEqual(["implicit keep"]);
  });

  test("duplicate asks the environment and reports the ids to record", () => {
    const script = 'require "duplicate"; if duplicate { discard; }';
    const seen = new Set<string>();
    const first = run(script, { env: { duplicate: (id) => seen.has(id) } });
    expect(summary(first)).toEqual(["implicit keep"]);
    for (const id of first.duplicates) seen.add(id);
    expect(summary(run(script, { env: { duplicate: (id) => seen.has(id) } }))).toEqual(["discard"]);
  });
});

describe("RFC 5293 editheader, RFC 6609 include", () => {
  test("added and deleted fields are seen by later tests", () => {
    const script = `require ["editheader", "fileinto"];
      addheader "X-Seen" "yes";
      deleteheader :matches "to" "*carol*";
      deleteheader "received";
      if allof (header "x-seen" "yes", not exists "to") { fileinto "edited"; }`;
    expect(summary(run(script))).toEqual(["addheader X-Seen: yes", "deleteheader to", "fileinto edited"]);
  });

  test("include with return, :once, :optional and global variables", () => {
    const scripts: Record<string, string> = {
      spam: 'require ["include", "variables"]; global "box"; set "box" "Junk"; return; set "box" "never";',
      loop: 'require "include"; include "loop";',
    };
    const include = (name: string) => (scripts[name] ? compile(scripts[name]) : null);
    const main = `require ["include", "variables", "fileinto"];
      global "box";
      include "spam";
      include :once "spam";
      include :optional "missing";
      fileinto "\${box}";`;
    expect(summary(run(main, { env: { include } }))).toEqual(["fileinto Junk"]);
    expect(run('require "include"; include "missing";', { env: { include } }).error?.detail).toBe(
      "included script 'missing' does not exist",
    );
    expect(run('require "include"; include "loop";', { env: { include } }).error?.detail).toBe(
      "includes are nested deeper than 10",
    );
  });
});
