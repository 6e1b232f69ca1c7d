import { describe, expect, test } from "bun:test";
import { decodeBase64, SaslExchange } from "../../src/auth/sasl.ts";

describe("SASL", () => {
  test("PLAIN with an initial response, with and without authzid", () => {
    expect(new SaslExchange("PLAIN").start(btoa("\0alice\0pw"))).toEqual({
      kind: "credentials",
      credentials: { authzid: "", username: "alice", password: "pw" },
    });
    expect(new SaslExchange("PLAIN").start(btoa("admin\0alice\0pw"))).toMatchObject({
      credentials: { authzid: "admin" },
    });
  });

  test("PLAIN without an initial response asks with an empty challenge; '=' is an empty response", () => {
    const x = new SaslExchange("PLAIN");
    expect(x.start()).toEqual({ kind: "challenge", challenge: "" });
    expect(x.respond("=")).toEqual({ kind: "error", reason: "malformed" });
  });

  test("LOGIN asks for the username, then the password", () => {
    const x = new SaslExchange("LOGIN");
    expect(x.start()).toEqual({ kind: "challenge", challenge: btoa("Username:") });
    expect(x.respond(btoa("alice"))).toEqual({ kind: "challenge", challenge: btoa("Password:") });
    const utf8 = btoa(String.fromCharCode(...new TextEncoder().encode("pässword")));
    expect(x.respond(utf8)).toEqual({
      kind: "credentials",
      credentials: { authzid: "", username: "alice", password: "pässword" },
    });
  });

  test("'*' cancels; malformed base64 and wrong field counts are errors", () => {
    expect(new SaslExchange("PLAIN").start("*")).toEqual({ kind: "error", reason: "cancelled" });
    expect(new SaslExchange("PLAIN").start("not base64!")).toEqual({ kind: "error", reason: "malformed" });
    expect(new SaslExchange("PLAIN").start(btoa("only\0two"))).toEqual({ kind: "error", reason: "malformed" });
    expect(decodeBase64("YWJj")).toBe("abc");
    expect(decodeBase64("YWJ")).toBeNull();
  });
});
