/** LOGIN and AUTHENTICATE (RFC 9051 §6.2.2, §6.2.3) through the session, without a socket. */
import { describe, expect, test } from "bun:test";
import type { ImapBackend } from "../../src/imap/backend.ts";
import type { ImapCommand } from "../../src/imap/commands.ts";
import { ImapSession } from "../../src/imap/session.ts";

const TLS = { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" };

/** Only `authenticate` is reached before login; alice / pw is the one account. */
const backend = {
  authenticate: async (username: string, password: string) =>
    username === "alice" && password === "pw" ? { id: 1, address: "alice@example.org" } : null,
} as unknown as ImapBackend;

function session(tls: typeof TLS | null = TLS, maxAuthFailures = 3): ImapSession {
  return new ImapSession({
    hostname: "mx.example.org",
    remoteAddress: "192.0.2.1",
    tls,
    allowPlaintextAuth: false,
    maxAuthFailures,
  }, backend);
}

const authenticate = (tag: string, mechanism: string, initialResponse?: string): ImapCommand =>
  ({
    tag,
    name: "AUTHENTICATE",
    mechanism,
    ...(initialResponse === undefined ? {} : { initialResponse }),
  }) as ImapCommand;
const login = (tag: string, username: string, password: string): ImapCommand =>
  ({ tag, name: "LOGIN", username, password }) as ImapCommand;

describe("IMAP login", () => {
  test("AUTHENTICATE PLAIN with SASL-IR, and with a continuation", async () => {
    const s = session();
    expect((await s.command(authenticate("a", "PLAIN", btoa("\0alice\0pw")))).out.join("")).toMatch(
      /^a OK \[CAPABILITY [^\]]+\] Logged in as alice@example.org\r\n$/,
    );
    const t = session();
    expect(await t.command(authenticate("b", "PLAIN"))).toEqual({ out: ["+ \r\n"], action: { kind: "sasl" } });
    expect((await t.saslResponse(btoa("alice\0alice\0pw"))).out.join("")).toStartWith("b OK ");
    expect(t.state).toBe("authenticated");
  });

  test("'*' cancels with BAD; another authzid, unknown mechanisms and cleartext are refused", async () => {
    const s = session();
    await s.command(authenticate("a", "PLAIN"));
    expect((await s.saslResponse("*")).out).toEqual(["a BAD AUTHENTICATE cancelled\r\n"]);
    expect((await s.command(authenticate("b", "PLAIN", "!!"))).out).toEqual([
      "b BAD Malformed AUTHENTICATE response\r\n",
    ]);
    expect((await s.command(authenticate("c", "PLAIN", btoa("bob\0alice\0pw")))).out).toEqual([
      "c NO [AUTHENTICATIONFAILED] Authentication failed\r\n",
    ]);
    expect((await s.command(authenticate("d", "LOGIN"))).out).toEqual([
      "d NO [CANNOT] Only AUTHENTICATE PLAIN is offered\r\n",
    ]);
    expect((await session(null).command(login("e", "alice", "pw"))).out).toEqual([
      "e NO [PRIVACYREQUIRED] Use STARTTLS first\r\n",
    ]);
    expect(s.state).toBe("not-authenticated");
  });

  test("the session closes after the configured failures", async () => {
    const s = session(TLS, 2);
    expect((await s.command(login("a", "alice", "wrong"))).action).toEqual({ kind: "continue" });
    expect(await s.command(login("b", "alice", "wrong"))).toEqual({
      out: ["b NO [AUTHENTICATIONFAILED] Authentication failed\r\n", "* BYE Too many authentication failures\r\n"],
      action: { kind: "close" },
    });
  });
});
