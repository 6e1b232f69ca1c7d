/**
 * Random Sieve scripts for the cross-check with Pigeonhole: nested if/else over header, address, envelope, body,
 * string, size and exists tests with every match type, relational operators and comparators (i;ascii-casemap
 * ordering is left out: it differs on purpose, see docs/sieve.md), variables and match variables, and the actions
 * fileinto (with :copy, :flags, :create), keep, discard, stop, redirect, flags and set.
 */
import fc from "fast-check";

const header = fc.constantFrom(
  '"subject"',
  '"from"',
  '"to"',
  '"x-spam-score"',
  '"received"',
  '["to","cc"]',
  '"list-id"',
  '"date"',
);
const key = fc.constantFrom(
  '"example"',
  '"*"',
  '"?*"',
  '"*a*"',
  '"[*]*"',
  '"meeting"',
  '"7"',
  '"12"',
  '""',
  '"bob"',
  '"*@*"',
  '"Jane*"',
  '"2"',
  '"acme"',
  '"\\\\*"',
  '["x","*o*"]',
);
const match = fc.constantFrom("", ":is", ":contains", ":matches", ':count "ge"', ':count "eq"');
const relational = fc.constantFrom(':value "gt"', ':value "le"', ':value "eq"');
/** A match type with a comparator that both sides order alike. */
const matching = fc.oneof(
  fc.tuple(match, fc.constantFrom("", ':comparator "i;octet"', ':comparator "i;ascii-casemap"')).map((p) =>
    p.join(" ")
  ),
  fc.tuple(fc.oneof(match, relational), fc.constantFrom(':comparator "i;octet"', ':comparator "i;ascii-numeric"'))
    .filter(([m, c]) => !(c.includes("numeric") && /contains|matches/.test(m)))
    .map((p) => p.join(" ")),
);
const addressPart = fc.constantFrom("", ":all", ":localpart", ":domain", ":user", ":detail");

const test: fc.Arbitrary<string> = fc.letrec<{ t: string }>((tie) => ({
  t: fc.oneof(
    { depthSize: "small" },
    fc.tuple(matching, header, key).map(([m, h, k]) => `header ${m} ${h} ${k}`),
    fc.tuple(matching, addressPart, fc.constantFrom('"from"', '"to"', '["to","cc"]', '"sender"'), key)
      .map(([m, a, h, k]) => `address ${m} ${a} ${h} ${k}`),
    fc.tuple(matching, addressPart, fc.constantFrom('"from"', '"to"'), key)
      .map(([m, a, h, k]) => `envelope ${m} ${a} ${h} ${k}`),
    fc.tuple(fc.constantFrom(":over", ":under"), fc.constantFrom("500", "1K", "4K", "600")).map(([o, n]) =>
      `size ${o} ${n}`
    ),
    fc.tuple(matching, fc.constantFrom('"text"', '"html"', '"report"', '"invoice"', '"*fine*"'))
      .map(([m, k]) => `body ${m} ${k}`),
    header.map((h) => `exists ${h}`),
    tie("t").map((t) => `not ${t}`),
    fc.array(tie("t"), { minLength: 1, maxLength: 3 }).map((ts) => `anyof (${ts.join(", ")})`),
    fc.array(tie("t"), { minLength: 1, maxLength: 3 }).map((ts) => `allof (${ts.join(", ")})`),
    fc.tuple(match, fc.constantFrom('"${1}"', '"${0}x"', '"${2}"'), key).map(([m, s, k]) => `string ${m} ${s} ${k}`),
  ),
})).t;

const action = fc.constantFrom(
  "keep;",
  "discard;",
  "stop;",
  'addflag "\\\\Seen";',
  'setflag ["a","b"];',
  'removeflag "a";',
  'redirect "x@example.com";',
  'redirect :copy "y@example.com";',
  'fileinto "A";',
  'fileinto :copy "B";',
  'fileinto :flags "f" "C";',
  'fileinto "m-${1}-${2}";',
  'fileinto :create "D";',
  'set "v" "${1}";',
  'fileinto "v-${v}";',
  'set :lower "w" "${0}";',
);

const command: fc.Arbitrary<string> = fc.letrec<{ c: string }>((tie) => ({
  c: fc.oneof(
    { depthSize: "small" },
    action,
    fc.tuple(test, fc.array(tie("c"), { maxLength: 3 }), fc.option(fc.array(tie("c"), { maxLength: 2 })))
      .map(([t, a, b]) => `if ${t} { ${a.join(" ")} }${b ? ` else { ${b.join(" ")} }` : ""}`),
  ),
})).c;

const REQUIRE = 'require ["fileinto", "envelope", "imap4flags", "variables", "relational", ' +
  '"comparator-i;ascii-numeric", "subaddress", "copy", "body", "mailbox"];\n';

export const randomScript: fc.Arbitrary<string> = fc.array(command, { minLength: 1, maxLength: 5 })
  .map((c) => `${REQUIRE}${c.join("\n")}\n`);
