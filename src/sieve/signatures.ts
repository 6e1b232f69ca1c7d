/**
 * What each command and test accepts: its extension, tagged arguments (with their own argument and the group of
 * mutually exclusive tags they belong to), positional arguments, tests and block. One table, checked by validate.ts.
 */

export type ArgType = "string" | "strings" | "number";

export interface TagSpec {
  arg?: ArgType;
  /** Tags of one group exclude each other (e.g. the match types). */
  group?: string;
  /** The capability that must be required to use the tag. */
  ext?: string;
}

export interface Signature {
  kind: "command" | "test";
  ext?: string;
  tags?: Record<string, TagSpec>;
  /** Accepted forms of the positional arguments (alternatives). */
  positional: ArgType[][];
  tests?: "one" | "list";
  block?: boolean;
}

const COMPARATOR: Record<string, TagSpec> = { comparator: { arg: "string", group: "comparator" } };
const MATCH: Record<string, TagSpec> = {
  is: { group: "match" },
  contains: { group: "match" },
  matches: { group: "match" },
  regex: { group: "match", ext: "regex" },
  count: { arg: "string", group: "match", ext: "relational" },
  value: { arg: "string", group: "match", ext: "relational" },
};
const ADDRESS_PART: Record<string, TagSpec> = {
  all: { group: "address-part" },
  localpart: { group: "address-part" },
  domain: { group: "address-part" },
  user: { group: "address-part", ext: "subaddress" },
  detail: { group: "address-part", ext: "subaddress" },
};
const INDEX: Record<string, TagSpec> = {
  index: { arg: "number", ext: "index" },
  last: { ext: "index" },
};
const MATCHING = { ...COMPARATOR, ...MATCH };

export const SIGNATURES: Record<string, Signature> = {
  // RFC 5228 §3 control commands, §4 actions.
  require: { kind: "command", positional: [["strings"]] },
  if: { kind: "command", positional: [[]], tests: "one", block: true },
  elsif: { kind: "command", positional: [[]], tests: "one", block: true },
  else: { kind: "command", positional: [[]], block: true },
  stop: { kind: "command", positional: [[]] },
  keep: { kind: "command", positional: [[]], tags: { flags: { arg: "strings", ext: "imap4flags" } } },
  discard: { kind: "command", positional: [[]] },
  redirect: { kind: "command", positional: [["string"]], tags: { copy: { ext: "copy" } } },
  fileinto: {
    kind: "command",
    ext: "fileinto",
    positional: [["string"]],
    tags: { copy: { ext: "copy" }, flags: { arg: "strings", ext: "imap4flags" }, create: { ext: "mailbox" } },
  },
  // RFC 5429.
  reject: { kind: "command", ext: "reject", positional: [["string"]] },
  ereject: { kind: "command", ext: "ereject", positional: [["string"]] },
  // RFC 5232.
  setflag: { kind: "command", ext: "imap4flags", positional: [["strings"], ["string", "strings"]] },
  addflag: { kind: "command", ext: "imap4flags", positional: [["strings"], ["string", "strings"]] },
  removeflag: { kind: "command", ext: "imap4flags", positional: [["strings"], ["string", "strings"]] },
  // RFC 5229.
  set: {
    kind: "command",
    ext: "variables",
    positional: [["string", "string"]],
    tags: {
      lower: { group: "case" },
      upper: { group: "case" },
      lowerfirst: { group: "first" },
      upperfirst: { group: "first" },
      quotewildcard: { group: "quote" },
      quoteregex: { group: "quote", ext: "regex" },
      length: { group: "length" },
    },
  },
  // RFC 5230, RFC 6131.
  vacation: {
    kind: "command",
    ext: "vacation",
    positional: [["string"]],
    tags: {
      days: { arg: "number", group: "period" },
      seconds: { arg: "number", group: "period", ext: "vacation-seconds" },
      subject: { arg: "string" },
      from: { arg: "string" },
      addresses: { arg: "strings" },
      mime: {},
      handle: { arg: "string" },
    },
  },
  // RFC 5293.
  addheader: { kind: "command", ext: "editheader", positional: [["string", "string"]], tags: { last: {} } },
  deleteheader: {
    kind: "command",
    ext: "editheader",
    positional: [["string"], ["string", "strings"]],
    tags: { ...MATCHING, index: { arg: "number" }, last: {} },
  },
  // RFC 6609.
  include: {
    kind: "command",
    ext: "include",
    positional: [["string"]],
    tags: { personal: { group: "location" }, global: { group: "location" }, once: {}, optional: {} },
  },
  return: { kind: "command", ext: "include", positional: [[]] },
  global: { kind: "command", ext: "include", positional: [["strings"]] },

  // RFC 5228 §5 tests.
  address: { kind: "test", positional: [["strings", "strings"]], tags: { ...MATCHING, ...ADDRESS_PART, ...INDEX } },
  envelope: {
    kind: "test",
    ext: "envelope",
    positional: [["strings", "strings"]],
    tags: { ...MATCHING, ...ADDRESS_PART },
  },
  header: { kind: "test", positional: [["strings", "strings"]], tags: { ...MATCHING, ...INDEX } },
  exists: { kind: "test", positional: [["strings"]] },
  size: { kind: "test", positional: [["number"]], tags: { over: { group: "size" }, under: { group: "size" } } },
  allof: { kind: "test", positional: [[]], tests: "list" },
  anyof: { kind: "test", positional: [[]], tests: "list" },
  not: { kind: "test", positional: [[]], tests: "one" },
  true: { kind: "test", positional: [[]] },
  false: { kind: "test", positional: [[]] },
  // RFC 5173.
  body: {
    kind: "test",
    ext: "body",
    positional: [["strings"]],
    tags: {
      ...MATCHING,
      raw: { group: "transform" },
      content: { arg: "strings", group: "transform" },
      text: { group: "transform" },
    },
  },
  // RFC 5229 §5, RFC 5232 §4.
  string: { kind: "test", ext: "variables", positional: [["strings", "strings"]], tags: MATCHING },
  hasflag: { kind: "test", ext: "imap4flags", positional: [["strings"], ["strings", "strings"]], tags: MATCHING },
  // RFC 5260.
  date: {
    kind: "test",
    ext: "date",
    positional: [["string", "string", "strings"]],
    tags: { ...MATCHING, ...INDEX, zone: { arg: "string", group: "zone" }, originalzone: { group: "zone" } },
  },
  currentdate: {
    kind: "test",
    ext: "date",
    positional: [["string", "strings"]],
    tags: { ...MATCHING, zone: { arg: "string", group: "zone" } },
  },
  // RFC 5490.
  mailboxexists: { kind: "test", ext: "mailbox", positional: [["strings"]] },
  // RFC 5235.
  spamtest: {
    kind: "test",
    ext: "spamtest",
    positional: [["string"]],
    tags: { ...MATCHING, percent: { ext: "spamtestplus" } },
  },
  virustest: { kind: "test", ext: "virustest", positional: [["string"]], tags: MATCHING },
  // RFC 7352.
  duplicate: {
    kind: "test",
    ext: "duplicate",
    positional: [[]],
    tags: {
      handle: { arg: "string" },
      header: { arg: "string", group: "id" },
      uniqueid: { arg: "string", group: "id" },
      seconds: { arg: "number" },
      last: {},
    },
  },
  // RFC 5183.
  environment: { kind: "test", ext: "environment", positional: [["string", "strings"]], tags: MATCHING },
};

/** Capabilities Postern implements, as named in `require`. */
export const CAPABILITIES = [
  "fileinto",
  "reject",
  "ereject",
  "envelope",
  "encoded-character",
  "imap4flags",
  "body",
  "variables",
  "vacation",
  "vacation-seconds",
  "relational",
  "comparator-i;ascii-numeric",
  "comparator-i;octet",
  "comparator-i;ascii-casemap",
  "subaddress",
  "copy",
  "date",
  "index",
  "mailbox",
  "regex",
  "spamtest",
  "spamtestplus",
  "virustest",
  "duplicate",
  "include",
  "editheader",
  "environment",
] as const;

/** Capabilities that also enable another one (RFC 5235 §3.2: spamtestplus implies spamtest). */
export const IMPLIES: Record<string, string[]> = {
  spamtestplus: ["spamtest"],
  "vacation-seconds": ["vacation"],
};
