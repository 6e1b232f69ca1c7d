/** Vacation replies (src/deliver/vacation.ts): the RFC 3834 / RFC 5230 rules for when to reply, and the reply. */
import { describe, expect, test } from "bun:test";
import {
  type VacationAction,
  type VacationContext,
  vacationReply,
  vacationSkipReason,
} from "../../src/deliver/vacation.ts";
import { parseHeaderFields } from "../../src/mime/header.ts";

const action: VacationAction = {
  type: "vacation",
  reason: "I am away.",
  subject: null,
  from: null,
  addresses: ["robert@example.test"],
  mime: false,
  handle: "h",
  seconds: 86_400,
};

function context(header: string, overrides: Partial<VacationContext> = {}): VacationContext {
  return {
    action,
    account: "bob@example.test",
    recipient: "bob+x@example.test",
    sender: "jane@remote.test",
    headers: parseHeaderFields(new TextEncoder().encode(header.replace(/\n/g, "\r\n"))),
    junk: false,
    ...overrides,
  };
}

const plain =
  "From: Jane <jane@remote.test>\nTo: Bob <bob@example.test>\nSubject: Lunch?\nMessage-ID: <m1@remote.test>\n";

describe("when a vacation reply may go", () => {
  test("to a person who wrote to one of the user's addresses", () => {
    expect(vacationSkipReason(context(plain))).toBeNull();
    expect(vacationSkipReason(context("To: robert@example.test\n"))).toBeNull();
    expect(vacationSkipReason(context("Cc: BOB+X@example.test\n"))).toBeNull();
  });

  const cases: Array<[string, string, Partial<VacationContext>?]> = [
    ["null sender", plain, { sender: "" }],
    ["junk", plain, { junk: true }],
    ["auto-submitted", `${plain}Auto-Submitted: auto-replied\n`],
    ["mailing list", `${plain}List-Id: <x.lists.test>\n`],
    ["precedence bulk", `${plain}Precedence: Bulk\n`],
    ["list or system sender", plain, { sender: "owner-list@remote.test" }],
    ["list or system sender", plain, { sender: "MAILER-DAEMON@remote.test" }],
    ["own address", plain, { sender: "robert@example.test" }],
    ["not addressed to the recipient", "To: someone@else.test\nSubject: x\n"],
  ];
  for (const [reason, header, overrides] of cases) {
    test(`not for ${reason}`, () => expect(vacationSkipReason(context(header, overrides))).toBe(reason));
  }
  test("Auto-Submitted: no is a person", () => {
    expect(vacationSkipReason(context(`${plain}Auto-Submitted: no\n`))).toBeNull();
  });
});

describe("the reply", () => {
  test("threaded, auto-replied, from the account to the sender", () => {
    const text = new TextDecoder().decode(
      vacationReply(context(`${plain}References: <m0@remote.test>\n`), "mail.example.test", new Date(0)),
    );
    const [head, body] = text.split("\r\n\r\n");
    expect(head).toContain("From: bob@example.test\r\nTo: <jane@remote.test>\r\nSubject: Auto: Lunch?\r\n");
    expect(head).toContain("Date: Thu, 1 Jan 1970 00:00:00 +0000");
    expect(head).toMatch(/\r\nMessage-ID: <[0-9a-f-]+@mail\.example\.test>\r\n/);
    expect(head).toContain("In-Reply-To: <m1@remote.test>\r\nReferences: <m0@remote.test> <m1@remote.test>\r\n");
    expect(head).toContain("Auto-Submitted: auto-replied");
    expect(body).toBe("I am away.");
  });

  test(":subject, :from, non-ASCII text and :mime", () => {
    const reply = (a: Partial<VacationAction>) =>
      new TextDecoder().decode(vacationReply(context(plain, { action: { ...action, ...a } }), "h.test"));
    const text = reply({ subject: "Weg bis Montag", from: "Bob <bob@example.test>", reason: "Grüße\nBob" });
    expect(text).toContain("From: Bob <bob@example.test>\r\n");
    expect(text).toContain("Subject: Weg bis Montag\r\n");
    expect(text).toContain("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable");
    expect(text).toContain("Gr=C3=BC=C3=9Fe\r\nBob");
    const mime = reply({ mime: true, reason: "Content-Type: text/html\n\n<p>away</p>" });
    expect(mime).toEndWith("MIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n<p>away</p>");
  });

  test("a script's CR or LF cannot start a header field", () => {
    const text = new TextDecoder().decode(
      vacationReply(context(plain, { action: { ...action, subject: "a\r\nBcc: x@evil.test" } }), "h.test"),
    );
    expect(text).not.toContain("\r\nBcc:");
  });
});
