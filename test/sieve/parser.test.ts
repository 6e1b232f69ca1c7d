/** Lexer and parser (RFC 5228 §2, §8): the tree they build and the line:column of every kind of error. */
import { describe, expect, test } from "bun:test";
import { compileSieve } from "../../src/sieve/index.ts";
import { parseScript } from "../../src/sieve/parser.ts";

function parse(source: string) {
  const r = parseScript(source);
  if (!r.ok) throw new Error(r.error.message);
  return r.commands;
}

function errorOf(source: string): string {
  const r = compileSieve(source);
  if (r.ok) throw new Error("expected an error");
  return r.error.message;
}

describe("parser", () => {
  test("commands, tests, tags, numbers and string lists", () => {
    const [c] = parse('if header :contains ["From", "Sender"] "x" { fileinto "A"; }');
    expect(c!.name).toBe("if");
    expect(c!.tests[0]!.name).toBe("header");
    expect(c!.tests[0]!.args).toEqual([
      { type: "tag", name: "contains", pos: { line: 1, column: 11 } },
      { type: "strings", values: ["From", "Sender"], list: true, pos: { line: 1, column: 21 } },
      { type: "strings", values: ["x"], list: false, pos: { line: 1, column: 40 } },
    ]);
    expect(c!.block![0]!.name).toBe("fileinto");
  });

  test("numbers with quantifiers (RFC 5228 §2.4.1)", () => {
    const [c] = parse("if size :over 2K { discard; } if size :under 1M {} if size :over 3g {}");
    expect(c!.tests[0]!.args[1]).toMatchObject({ type: "number", value: 2048 });
    expect(parse("if size :under 1M {}")[0]!.tests[0]!.args[1]).toMatchObject({ value: 1024 * 1024 });
    expect(parse("if size :over 3g {}")[0]!.tests[0]!.args[1]).toMatchObject({ value: 3 * 1024 ** 3 });
  });

  test("quoted strings: escapes (RFC 5228 §2.4.2)", () => {
    const [c] = parse('fileinto "a\\"b\\\\c\\d";');
    expect(c!.args[0]).toMatchObject({ values: ['a"b\\cd'] });
  });

  test("multi-line strings: dot-stuffing and the hash comment after text:", () => {
    const [c] = parse("vacation text: # comment\r\nline one\r\n..dotted\r\n.\r\n;");
    expect(c!.args[0]).toMatchObject({ values: ["line one\r\n.dotted\r\n"] });
    const [d] = parse("reject text:\n\n.\n;");
    expect(d!.args[0]).toMatchObject({ values: ["\r\n"] });
  });

  test("comments of both kinds, and case-insensitive identifiers", () => {
    const cs = parse("# one\nKEEP; /* two\nlines */ Discard; # end");
    expect(cs.map((c) => c.name)).toEqual(["keep", "discard"]);
    expect(cs[1]!.pos).toEqual({ line: 3, column: 10 });
  });

  test("test lists nest", () => {
    const [c] = parse("if allof (true, anyof (false, not true)) {}");
    const allof = c!.tests[0]!;
    expect(allof.testList).toBe(true);
    expect(allof.tests.map((t) => t.name)).toEqual(["true", "anyof"]);
    expect(allof.tests[1]!.tests[1]!.tests[0]!.name).toBe("true");
  });
});

describe("error positions (line:column)", () => {
  const cases: Array<[string, string]> = [
    ['keep;\nfileinto "x"', "line 2, column 13: expected ';' or '{' after command 'fileinto', found end of script"],
    ["keep;\n  if true { keep; ", "line 2, column 19: expected '}', found end of script"],
    ['if header "a" "b" {\n}\n}', "line 3, column 1: unexpected '}'"],
    ['fileinto "abc', "line 1, column 10: unterminated string"],
    ["keep;\n/* open", "line 2, column 1: unterminated comment"],
    ["vacation text:\nno end", "line 1, column 10: unterminated multi-line string"],
    ["if size :over 12Q {}", "line 1, column 15: invalid number '12Q'"],
    ['keep;\n  fileinto : "x";', "line 2, column 12: a tag needs a name after ':'"],
    ["keep; @", "line 1, column 7: unexpected character '@'"],
    ['fileinto ["a", ];', "line 1, column 16: expected a string in the list, found ']'"],
    ["if anyof (true false) {}", "line 1, column 16: 'true' takes no test"],
    ["\n\n   frobnicate;", "line 3, column 4: unknown command 'frobnicate'"],
    ['require "fileinto";\nif foo { }', "line 2, column 4: unknown test 'foo'"],
    ['fileinto "x";', "line 1, column 1: command 'fileinto' requires the 'fileinto' extension"],
    ['require "bogus";', "line 1, column 9: unknown extension 'bogus'"],
    ['keep;\nrequire "fileinto";', "line 2, column 1: require must come before any other command"],
    ['if true { require "fileinto"; }', "line 1, column 11: require must come before any other command"],
    ['require "fileinto";\nfileinto :copy "x";', "line 2, column 10: tag ':copy' requires the 'copy' extension"],
    ['if header :is :contains "a" "b" {}', "line 1, column 15: tags ':is' and ':contains' cannot be used together"],
    ['if header "a" :is "b" {}', "line 1, column 15: tag ':is' must come before the positional arguments of 'header'"],
    ['require "fileinto";\nfileinto ["a", "b"];', "line 2, column 10: command 'fileinto' takes a string"],
    ["if size 10 {}", "line 1, column 4: size needs :over or :under"],
    ['if header :comparator "i;bogus" "a" "b" {}', "line 1, column 23: unknown comparator 'i;bogus'"],
    [
      'if header :comparator "i;ascii-numeric" "a" "1" {}',
      "line 1, column 23: comparator 'i;ascii-numeric' requires 'comparator-i;ascii-numeric'",
    ],
    [
      'require "relational";\nif header :value "gq" "a" "1" {}',
      "line 2, column 18: ':value' needs one of gt, ge, lt, le, eq, ne",
    ],
    ["else { keep; }", "line 1, column 1: else must follow if or elsif"],
    ["if true keep;", "line 1, column 1: 'if' needs a block"],
    ["if true {} keep", "line 1, column 16: expected ';' or '{' after command 'keep', found end of script"],
    ["if true;", "line 1, column 1: 'if' needs a block"],
    ["keep { }", "line 1, column 1: 'keep' takes no block"],
    ["if (true) {}", "line 1, column 1: 'if' needs exactly one test"],
    ["if allof true {}", "line 1, column 4: 'allof' needs a test list in parentheses"],
    ['require "envelope";\nif envelope "resent" "x" {}', "line 2, column 13: unknown envelope part 'resent'"],
    ['require "variables";\nset "a-b" "x";', "line 2, column 5: invalid variable name 'a-b'"],
    ['require "regex";\nif header :regex "a" "(" {}', "line 2, column 22: invalid regular expression '('"],
    [
      'require "regex";\nif header :regex "a" "^(a+)+$" {}',
      "line 2, column 22: regular expression '^(a+)+$' nests quantifiers or uses back references",
    ],
    ['redirect "bad address";', "line 1, column 10: invalid redirect address 'bad address'"],
  ];
  for (const [source, message] of cases) {
    test(message, () => expect(errorOf(source)).toBe(message));
  }
});
