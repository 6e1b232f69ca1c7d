/** RFC 5256 §2.1 base subject extraction (src/mime/base-subject.ts). */
import { describe, expect, test } from "bun:test";
import { baseSubject } from "../../src/mime/base-subject.ts";

const base = (s: string | null) => baseSubject(s).base;

describe("base subject (RFC 5256 §2.1)", () => {
  test("Re:, Fw:, Fwd: in any case, repeated, with blobs between, and white space", () => {
    expect(base("Re: hello")).toBe("hello");
    expect(base("RE: Re: re:hello")).toBe("hello");
    expect(base("Fwd: FW: fw:hello")).toBe("hello");
    expect(base("Re [2]: hello")).toBe("hello");
    expect(base("[list] Re: [other] Fwd: hello")).toBe("hello");
    expect(base("  Re:\t\r\n  hello   world  ")).toBe("hello world");
  });

  test("a trailing (fwd) and a [fwd: ...] wrapper are forward markers", () => {
    expect(baseSubject("hello (fwd)")).toEqual({ base: "hello", replyOrForward: true });
    expect(baseSubject("[Fwd: Re: hello]")).toEqual({ base: "hello", replyOrForward: true });
    expect(baseSubject("[fwd: [list] hello (fwd)]")).toEqual({ base: "hello", replyOrForward: true });
  });

  test("a blob stays when nothing would be left after it; words that only start like Re stay", () => {
    expect(base("[list]")).toBe("[list]");
    expect(base("[list] ")).toBe("[list]");
    expect(base("[list] hello")).toBe("hello");
    expect(base("Reply needed")).toBe("Reply needed");
    expect(base("Fwdx: hello")).toBe("Fwdx: hello");
    expect(base("Re:")).toBe("");
  });

  test("no subject, or a subject of white space, is empty; plain subjects are not replies", () => {
    expect(baseSubject(null)).toEqual({ base: "", replyOrForward: false });
    expect(baseSubject("   ")).toEqual({ base: "", replyOrForward: false });
    expect(baseSubject("hello")).toEqual({ base: "hello", replyOrForward: false });
    expect(baseSubject("Re: hello").replyOrForward).toBe(true);
  });

  test("long hostile input stays fast", () => {
    const start = performance.now();
    baseSubject("[".repeat(50_000) + "Re: ".repeat(50_000));
    baseSubject("[a]".repeat(50_000));
    expect(performance.now() - start).toBeLessThan(2000);
  });
});
