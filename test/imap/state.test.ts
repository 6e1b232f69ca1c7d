import { describe, expect, test } from "bun:test";
import type { ImapCommand } from "../../src/imap/commands.ts";
import { allowed, capabilities, refusal } from "../../src/imap/state.ts";

const everyCommand: ImapCommand["name"][] = [
  "CAPABILITY",
  "NOOP",
  "LOGOUT",
  "STARTTLS",
  "NAMESPACE",
  "IDLE",
  "CHECK",
  "CLOSE",
  "UNSELECT",
  "LOGIN",
  "AUTHENTICATE",
  "ENABLE",
  "ID",
  "SELECT",
  "EXAMINE",
  "CREATE",
  "DELETE",
  "SUBSCRIBE",
  "UNSUBSCRIBE",
  "RENAME",
  "LIST",
  "LSUB",
  "STATUS",
  "APPEND",
  "EXPUNGE",
  "SEARCH",
  "SORT",
  "THREAD",
  "GETQUOTA",
  "GETQUOTAROOT",
  "SETQUOTA",
  "FETCH",
  "STORE",
  "COPY",
  "MOVE",
];

describe("IMAP states", () => {
  test("the command table: each command in each state", () => {
    const table = Object.fromEntries(
      everyCommand.map((
        name,
      ) => [
        name,
        (["not-authenticated", "authenticated", "selected", "logout"] as const).filter((s) => allowed(s, name)).join(
          ",",
        ),
      ]),
    );
    expect(table).toEqual({
      CAPABILITY: "not-authenticated,authenticated,selected",
      NOOP: "not-authenticated,authenticated,selected",
      LOGOUT: "not-authenticated,authenticated,selected",
      ID: "not-authenticated,authenticated,selected",
      STARTTLS: "not-authenticated",
      LOGIN: "not-authenticated",
      AUTHENTICATE: "not-authenticated",
      NAMESPACE: "authenticated,selected",
      IDLE: "authenticated,selected",
      ENABLE: "authenticated,selected",
      SELECT: "authenticated,selected",
      EXAMINE: "authenticated,selected",
      CREATE: "authenticated,selected",
      DELETE: "authenticated,selected",
      SUBSCRIBE: "authenticated,selected",
      UNSUBSCRIBE: "authenticated,selected",
      RENAME: "authenticated,selected",
      LIST: "authenticated,selected",
      LSUB: "authenticated,selected",
      STATUS: "authenticated,selected",
      APPEND: "authenticated,selected",
      CHECK: "selected",
      CLOSE: "selected",
      UNSELECT: "selected",
      EXPUNGE: "selected",
      SEARCH: "selected",
      SORT: "selected",
      THREAD: "selected",
      GETQUOTA: "authenticated,selected",
      GETQUOTAROOT: "authenticated,selected",
      SETQUOTA: "authenticated,selected",
      FETCH: "selected",
      STORE: "selected",
      COPY: "selected",
      MOVE: "selected",
    });
    expect(refusal("authenticated", "FETCH")).toBe("FETCH needs a selected mailbox");
    expect(refusal("not-authenticated", "SELECT")).toBe("SELECT needs LOGIN or AUTHENTICATE first");
  });

  test("capabilities: LOGINDISABLED and STARTTLS before TLS, the extensions after login", () => {
    expect(capabilities({ state: "not-authenticated", tls: false, allowPlaintext: false })).toEqual(
      expect.arrayContaining(["IMAP4rev2", "STARTTLS", "LOGINDISABLED"]),
    );
    expect(capabilities({ state: "not-authenticated", tls: true, allowPlaintext: false })).toContain("AUTH=PLAIN");
    expect(capabilities({ state: "authenticated", tls: true, allowPlaintext: false })).toEqual(
      expect.arrayContaining([
        "IDLE",
        "UIDPLUS",
        "MOVE",
        "CONDSTORE",
        "QRESYNC",
        "SPECIAL-USE",
        "LIST-STATUS",
        "ESEARCH",
        "SORT",
        "ESORT",
        "THREAD=REFERENCES",
        "THREAD=ORDEREDSUBJECT",
      ]),
    );
  });
});
