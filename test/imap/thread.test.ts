/** THREAD (RFC 5256): ORDEREDSUBJECT and REFERENCES over messages (src/imap/thread.ts), and SORT. */
import { describe, expect, test } from "bun:test";
import type { Match } from "../../src/imap/search-run.ts";
import { sortMessages } from "../../src/imap/sort.ts";
import { formatThreads, orderedSubject, references } from "../../src/imap/thread.ts";
import { summarize } from "../../src/mime/summary.ts";

let seq = 0;
/** A message with these headers; its date is the n-th minute unless a Date is given. */
function message(headers: Record<string, string>, size = 100): Match {
  seq++;
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const date = headers.Date ? "" : `Date: ${new Date(Date.UTC(2026, 0, 1, 0, seq)).toUTCString()}\r\n`;
  return {
    seq,
    uid: seq * 10,
    modseq: seq,
    size,
    internalDate: new Date(Date.UTC(2026, 5, 1, 0, 100 - seq)),
    summary: summarize(new TextEncoder().encode(`${date}${lines}\r\nbody\r\n`)),
  };
}
const bySeq = (m: Match) => m.seq;

describe("THREAD=REFERENCES", () => {
  test("reference chains, a missing parent as a dummy, replies by In-Reply-To", () => {
    seq = 0;
    const ms = [
      message({ "Message-ID": "<a@x>", Subject: "topic" }),
      message({ "Message-ID": "<b@x>", Subject: "Re: topic", References: "<a@x>" }),
      message({ "Message-ID": "<c@x>", Subject: "Re: topic", References: "<a@x> <b@x>" }),
      message({ "Message-ID": "<d@x>", Subject: "Re: topic", "In-Reply-To": "<a@x>" }),
      // Two replies to a message that is not in the mailbox: a dummy holds them together.
      message({ "Message-ID": "<e@x>", Subject: "Re: lost", References: "<gone@x>" }),
      message({ "Message-ID": "<f@x>", Subject: "Re: lost", References: "<gone@x>" }),
      // One reply to a missing message: promoted to the top.
      message({ "Message-ID": "<g@x>", Subject: "alone", References: "<gone2@x>" }),
    ];
    expect(formatThreads(references(ms), bySeq)).toBe("(1 (2 3)(4))((5)(6))(7)");
  });

  test("threads with the same base subject merge; a non-reply takes a reply under it", () => {
    seq = 0;
    const ms = [
      message({ "Message-ID": "<1@x>", Subject: "Meeting" }),
      message({ "Message-ID": "<2@x>", Subject: "Re: Meeting" }),
      message({ "Message-ID": "<3@x>", Subject: "Lunch" }),
      message({ "Message-ID": "<4@x>", Subject: "lunch" }),
    ];
    // 2 is a reply by subject only: it goes under 1. 3 and 4 are both non-replies: a dummy.
    expect(formatThreads(references(ms), bySeq)).toBe("(1 2)((3)(4))");
  });

  test("no Message-ID, duplicate Message-IDs and reference loops do not break it", () => {
    seq = 0;
    const ms = [
      message({ Subject: "one" }),
      message({ "Message-ID": "<dup@x>", Subject: "two" }),
      message({ "Message-ID": "<dup@x>", Subject: "three" }),
      message({ "Message-ID": "<p@x>", Subject: "four", References: "<q@x>" }),
      message({ "Message-ID": "<q@x>", Subject: "five", References: "<p@x>" }),
    ];
    const out = formatThreads(references(ms), bySeq);
    expect(out.match(/\d+/g)!.map(Number).sort()).toEqual([1, 2, 3, 4, 5]);
    // 4 names 5 as its parent first; 5 naming 4 back would make a loop and is not linked.
    expect(out).toBe("(1)(2)(3)(5 4)");
  });

  test("siblings and threads in sent-date order, whatever the sequence order", () => {
    seq = 0;
    const ms = [
      message({ "Message-ID": "<late@x>", Subject: "later", Date: "Fri, 2 Jan 2026 10:00:00 +0000" }),
      message({ "Message-ID": "<early@x>", Subject: "earlier", Date: "Thu, 1 Jan 2026 10:00:00 +0000" }),
      message({ "Subject": "Re: earlier", References: "<early@x>", Date: "Sat, 3 Jan 2026 10:00:00 +0000" }),
      message({ "Subject": "Re: earlier", References: "<early@x>", Date: "Thu, 1 Jan 2026 11:00:00 +0000" }),
    ];
    expect(formatThreads(references(ms), bySeq)).toBe("(2 (4)(3))(1)");
  });
});

describe("THREAD on a very deep thread", () => {
  test("50,000 replies in one chain: no stack overflow, and quick", () => {
    const base = summarize(new TextEncoder().encode("Subject: deep\r\n\r\nx\r\n"));
    const ms: Match[] = [];
    for (let i = 1; i <= 50_000; i++) {
      ms.push({
        seq: i,
        uid: i,
        modseq: i,
        size: 1,
        internalDate: new Date(i * 1000),
        summary: { ...base, messageId: `m${i}@x`, references: i > 1 ? [`m${i - 1}@x`] : [], sentAt: i * 1000 },
      });
    }
    const start = performance.now();
    const out = formatThreads(references(ms), bySeq);
    expect(out.startsWith("(1 2 3 ")).toBe(true);
    expect(out.endsWith(" 49999 50000)")).toBe(true);
    expect(performance.now() - start).toBeLessThan(3000);
  });
});

describe("THREAD=ORDEREDSUBJECT", () => {
  test("grouped by base subject, each group under its earliest message, groups by their first", () => {
    seq = 0;
    const ms = [
      message({ Subject: "b" }),
      message({ Subject: "Re: a" }),
      message({ Subject: "[list] A" }),
      message({ Subject: "Fwd: b" }),
      message({ Subject: "Re: b" }),
      message({ Subject: "c" }),
    ];
    expect(formatThreads(orderedSubject(ms), bySeq)).toBe("(1 (4)(5))(2 3)(6)");
  });
});

describe("SORT (RFC 5256 §3)", () => {
  test("keys, REVERSE per key, sequence order as the last resort", () => {
    seq = 0;
    const ms = [
      message({ Subject: "Re: beta", From: "zed@x.test", To: "b@x.test" }, 300),
      message({ Subject: "alpha", From: "Amy <amy@x.test>", To: "c@x.test" }, 100),
      message({ Subject: "[list] Beta", From: "bob@x.test", To: "a@x.test" }, 200),
      message({ Subject: "ALPHA", From: "AMY@x.test" }, 100),
    ];
    const order = (criteria: Parameters<typeof sortMessages>[1]) => sortMessages(ms, criteria).map(bySeq);
    expect(order([{ key: "SUBJECT", reverse: false }])).toEqual([2, 4, 1, 3]);
    expect(order([{ key: "SUBJECT", reverse: false }, { key: "SIZE", reverse: true }])).toEqual([2, 4, 1, 3]);
    expect(order([{ key: "SIZE", reverse: false }])).toEqual([2, 4, 3, 1]);
    expect(order([{ key: "SIZE", reverse: true }])).toEqual([1, 3, 2, 4]);
    expect(order([{ key: "FROM", reverse: false }])).toEqual([2, 4, 3, 1]);
    expect(order([{ key: "TO", reverse: false }])).toEqual([4, 3, 1, 2]);
    expect(order([{ key: "DATE", reverse: true }])).toEqual([4, 3, 2, 1]);
    expect(order([{ key: "ARRIVAL", reverse: false }])).toEqual([4, 3, 2, 1]);
    expect(order([{ key: "DISPLAYFROM", reverse: false }])).toEqual([2, 4, 3, 1]);
  });
});
