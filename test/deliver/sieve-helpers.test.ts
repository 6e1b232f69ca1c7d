/**
 * The pure parts of Sieve at delivery (issue 21): the reject reply text and notice (RFC 5429), the message as
 * editheader left it (RFC 5293), spamtest/virustest from the policy verdict (RFC 5235), the failure notice.
 */
import { describe, expect, test } from "bun:test";
import { editedMessage } from "../../src/deliver/sieve-edit.ts";
import { duplicateKey } from "../../src/deliver/sieve-lookups.ts";
import { noticeKey, scriptErrorNotice } from "../../src/deliver/sieve-notice.ts";
import { policyResults } from "../../src/deliver/sieve-policy.ts";
import { rejectionNotice, rejectReplyText } from "../../src/deliver/sieve-reject.ts";
import { compileSieve, messageView, runScript } from "../../src/sieve/index.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);

describe("reject (RFC 5429)", () => {
  test("the reason is the reply text when it is printable ASCII, else a generic text", () => {
    expect(rejectReplyText("Go away")).toEqual(["Go away"]);
    expect(rejectReplyText("line one\nline two\n")).toEqual(["line one", "line two"]);
    expect(rejectReplyText("Je ne suis pas là")).toEqual(["Message rejected by the recipient's mail filter"]);
    expect(rejectReplyText("")).toEqual(["Message rejected by the recipient's mail filter"]);
    expect(rejectReplyText("x".repeat(401))).toEqual(["Message rejected by the recipient's mail filter"]);
    expect(rejectReplyText("bell\x07")).toEqual(["Message rejected by the recipient's mail filter"]);
  });

  test("the notice is a DSN to the sender from the null sender; none to the null sender or for junk", () => {
    const message = { raw: enc("Subject: hi\r\n\r\nbody\r\n"), sender: "x@remote.test", junk: false };
    const rejection = { recipient: "ann@example.test", reason: "No thanks", extended: false };
    const notice = rejectionNotice(rejection, message, "mx.example.test")!;
    expect(notice.sender).toBe("");
    expect(notice.recipients).toEqual([{ address: "x@remote.test" }]);
    const text = dec(notice.raw);
    expect(text).toMatch(/^Final-Recipient: rfc822; ann@example\.test\r$/m);
    expect(text).toMatch(/^Action: failed\r$/m);
    expect(text).toMatch(/^Diagnostic-Code: smtp; 550 5\.7\.1 No thanks\r$/m);
    expect(text).toContain("Subject: hi");
    expect(rejectionNotice(rejection, { ...message, sender: "" }, "mx.example.test")).toBeNull();
    expect(rejectionNotice(rejection, { ...message, junk: true }, "mx.example.test")).toBeNull();
  });
});

describe("editheader (RFC 5293)", () => {
  const raw = enc(
    "Received: from a\r\n by b; Mon, 1 Jan 2024 00:00:00 +0000\r\nX-Drop: 1\r\nSubject: folded\r\n  subject\r\n" +
      "Auto-Submitted: auto-generated\r\n\r\nbody\r\n",
  );
  function run(script: string): string {
    const c = compileSieve(script);
    if (!c.ok) throw new Error(c.error.message);
    const view = messageView(raw, { from: "a@b", to: "c@d" });
    const r = runScript(c.script, view);
    expect(r.error).toBeNull();
    return r.headers ? dec(editedMessage(raw, view, r.headers)) : dec(raw);
  }

  test("added fields go first (or last with :last), deleted ones go, the rest keep their bytes", () => {
    const out = run(
      'require "editheader"; addheader "X-First" "1"; addheader :last "X-Last" "2"; deleteheader "x-drop";',
    );
    expect(out).toBe(
      "X-First: 1\r\nReceived: from a\r\n by b; Mon, 1 Jan 2024 00:00:00 +0000\r\nSubject: folded\r\n  subject\r\n" +
        "Auto-Submitted: auto-generated\r\nX-Last: 2\r\n\r\nbody\r\n",
    );
  });

  test("Received and Auto-Submitted are never deleted (§6); a script that edits nothing changes nothing", () => {
    const out = run('require "editheader"; deleteheader "Received"; deleteheader "Auto-Submitted";');
    expect(out).toBe(dec(raw));
  });

  test("a line break in an added value does not start a field of its own", () => {
    const out = run('require ["editheader", "variables"]; set "v" "a\r\nBcc: x@y"; addheader "X-V" "${v}";');
    expect(out.startsWith("X-V: a Bcc: x@y\r\nReceived:")).toBe(true);
  });

  test("an invalid field name built from a variable is a run-time error", () => {
    const c = compileSieve('require ["editheader", "variables"]; set "n" "bad name"; addheader "${n}" "v";');
    if (!c.ok) throw new Error(c.error.message);
    const r = runScript(c.script, messageView(raw, { from: "", to: "c@d" }));
    expect(r.error?.message).toMatch(/invalid header name/);
    expect(r.headers).toBeNull();
  });
});

describe("spamtest and virustest from the policy verdict (RFC 5235)", () => {
  test("not tested", () => {
    expect(policyResults(undefined)).toEqual({ spam: null, virus: null });
    expect(policyResults(["X-Postern-Scan: spamassassin scan-failed"])).toEqual({ spam: null, virus: null });
  });

  test("the spam score scaled to the threshold: 1 clean .. 10 at or past it; :percent 0..100", () => {
    expect(policyResults(["X-Spam-Status: No, score=-1.0 required=5.0 tests=A"]).spam).toEqual({
      score: 1,
      percent: 0,
    });
    expect(policyResults(["X-Spam-Status: No, score=3.0 required=5.0"]).spam).toEqual({ score: 6, percent: 60 });
    expect(policyResults(["X-Spam-Status: Yes, score=12.5 required=5.0"]).spam).toEqual({ score: 10, percent: 100 });
    expect(policyResults(["X-Spam-Status: Yes, score=9.0"]).spam).toEqual({ score: 10, percent: 100 });
  });

  test("ClamAV: clean is 1, infected 5", () => {
    expect(policyResults(["X-Virus-Scanned: clamav, clean"]).virus).toBe(1);
    expect(policyResults(["X-Virus-Status: infected Eicar-Test-Signature"]).virus).toBe(5);
  });

  test("the interpreter reads them", () => {
    const c = compileSieve(
      'require ["spamtest", "virustest", "relational", "comparator-i;ascii-numeric", "fileinto"];' +
        'if allof(spamtest :value "ge" :comparator "i;ascii-numeric" "6", virustest :value "eq" ' +
        ':comparator "i;ascii-numeric" "1") { fileinto "Suspect"; }',
    );
    if (!c.ok) throw new Error(c.error.message);
    const env = policyResults(["X-Spam-Status: No, score=3.0 required=5.0", "X-Virus-Scanned: clamav, clean"]);
    const r = runScript(c.script, messageView(enc("Subject: x\r\n\r\n"), { from: "a@b", to: "c@d" }), env);
    expect(r.actions[0]).toMatchObject({ type: "fileinto", mailbox: "Suspect" });
  });
});

describe("failure notice and tracked values", () => {
  test("the notice names the script and the error, and is auto-generated", () => {
    const text = dec(
      scriptErrorNotice(
        { account: "dan@example.test", script: "main", error: "line 1, column 1: boom", compile: false },
        "mx.example.test",
      ),
    );
    expect(text).toMatch(/^Subject: Sieve script "main" failed\r$/m);
    expect(text).toMatch(/^Auto-Submitted: auto-generated\r$/m);
    expect(text).toContain("line 1, column 1: boom");
  });

  test("keys: a changed script or error is a new notice; a duplicate value is stored hashed per handle", () => {
    expect(noticeKey("a", "e")).not.toBe(noticeKey("b", "e"));
    expect(noticeKey("a", "e")).not.toBe(noticeKey("a", "f"));
    const k = duplicateKey("handle\u0000<id@x>");
    expect(k.handle).toBe("handle");
    expect(k.hash).toMatch(/^[0-9a-f]{64}$/);
  });
});
