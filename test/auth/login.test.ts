import { describe, expect, test } from "bun:test";
import { type LoginAttempt, loginStep, passwordStep, startSasl } from "../../src/auth/login.ts";

/** A backend with one user, alice / pw, that records what it was asked. */
function attempt(failures = 0, maxFailures = 3): LoginAttempt<string> & { asked: string[] } {
  const asked: string[] = [];
  return {
    asked,
    failures,
    maxFailures,
    verify: async (username, password) => {
      asked.push(username);
      return username === "alice" && password === "pw" ? "alice-account" : null;
    },
  };
}

describe("login rule", () => {
  test("only offered mechanisms start an exchange", () => {
    expect(startSasl("LOGIN", ["PLAIN"], undefined)).toBeNull();
    expect(startSasl("CRAM-MD5", ["PLAIN", "LOGIN"], undefined)).toBeNull();
    expect(startSasl("PLAIN", ["PLAIN"], undefined)?.step).toEqual({ kind: "challenge", challenge: "" });
  });

  test("PLAIN: an empty authzid or the user's own logs in; another identity fails without asking the backend", async () => {
    expect(await loginStep(startSasl("PLAIN", ["PLAIN"], btoa("\0alice\0pw"))!.step, attempt()))
      .toEqual({ kind: "authenticated", account: "alice-account" });
    expect(await loginStep(startSasl("PLAIN", ["PLAIN"], btoa("alice\0alice\0pw"))!.step, attempt()))
      .toEqual({ kind: "authenticated", account: "alice-account" });
    const a = attempt();
    expect(await loginStep(startSasl("PLAIN", ["PLAIN"], btoa("admin\0alice\0pw"))!.step, a))
      .toEqual({ kind: "failed", failures: 1, close: false });
    expect(a.asked).toEqual([]);
  });

  test("LOGIN's two steps, then the credentials are checked", async () => {
    const { exchange, step } = startSasl("LOGIN", ["PLAIN", "LOGIN"], undefined)!;
    expect(await loginStep(step, attempt())).toEqual({ kind: "challenge", challenge: btoa("Username:") });
    expect(await loginStep(exchange.respond(btoa("alice")), attempt())).toEqual({
      kind: "challenge",
      challenge: btoa("Password:"),
    });
    expect(await loginStep(exchange.respond(btoa("pw")), attempt())).toEqual({
      kind: "authenticated",
      account: "alice-account",
    });
  });

  test("'*' cancels and garbage is malformed; neither counts as a failed login", async () => {
    const a = attempt();
    expect(await loginStep(startSasl("PLAIN", ["PLAIN"], "*")!.step, a)).toEqual({ kind: "cancelled" });
    expect(await loginStep(startSasl("PLAIN", ["PLAIN"], "%%")!.step, a)).toEqual({ kind: "malformed" });
    expect(a.asked).toEqual([]);
  });

  test("failures count up and close the session at the limit", async () => {
    expect(await loginStep(passwordStep("alice", "wrong"), attempt(0, 2))).toEqual({
      kind: "failed",
      failures: 1,
      close: false,
    });
    expect(await loginStep(passwordStep("alice", "wrong"), attempt(1, 2))).toEqual({
      kind: "failed",
      failures: 2,
      close: true,
    });
    expect(await loginStep(passwordStep("nobody", "pw"), attempt(0, 1))).toEqual({
      kind: "failed",
      failures: 1,
      close: true,
    });
  });
});
