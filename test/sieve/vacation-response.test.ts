/** JMAP's VacationResponse as a Sieve script (src/sieve/vacation-response.ts, issue 21). */
import { describe, expect, test } from "bun:test";
import { compileSieve, messageView, runScript } from "../../src/sieve/index.ts";
import { vacationResponseScript, type VacationSettings } from "../../src/sieve/vacation-response.ts";

const off: VacationSettings = {
  isEnabled: false,
  fromDate: null,
  toDate: null,
  subject: null,
  textBody: null,
  htmlBody: null,
};
const message = messageView(new TextEncoder().encode("Subject: hi\r\n\r\nbody\r\n"), { from: "a@b.test", to: "c@d" });

function run(v: VacationSettings, now: number) {
  const compiled = compileSieve(vacationResponseScript(v));
  if (!compiled.ok) throw new Error(compiled.error.message);
  return runScript(compiled.script, message, { now }).actions.map((a) => a.type === "vacation" ? a : a.type);
}

describe("VacationResponse script", () => {
  test("off: keeps, sends nothing", () => {
    expect(run(off, 0)).toEqual(["keep"]);
  });

  test("on without dates: the subject and text body, quotes and backslashes escaped", () => {
    const [vacation] = run({ ...off, isEnabled: true, subject: 'Away "now"', textBody: "a\\b\nline two" }, 0);
    expect(vacation).toMatchObject({ type: "vacation", subject: 'Away "now"', reason: "a\\b\r\nline two" });
  });

  test("the HTML body as text when there is no text body", () => {
    const [vacation] = run({ ...off, isEnabled: true, htmlBody: "<p>Back <b>soon</b></p>" }, 0);
    expect(vacation).toMatchObject({ type: "vacation", subject: null });
    expect((vacation as { reason: string }).reason).toContain("Back soon");
  });

  test("only from fromDate (inclusive) until toDate (exclusive)", () => {
    const v = {
      ...off,
      isEnabled: true,
      textBody: "x",
      fromDate: new Date("2030-01-01T00:00:00Z"),
      toDate: new Date("2030-01-08T00:00:00Z"),
    };
    const at = (iso: string) => run(v, Date.parse(iso)).some((a) => typeof a === "object");
    expect(at("2029-12-31T23:59:59Z")).toBe(false);
    expect(at("2030-01-01T00:00:00Z")).toBe(true);
    expect(at("2030-01-07T23:59:59Z")).toBe(true);
    expect(at("2030-01-08T00:00:00Z")).toBe(false);
  });
});
