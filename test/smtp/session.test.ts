import { describe, expect, test } from "bun:test";
import { Harness } from "./session-harness.ts";

const TLS = { protocol: "TLSv1.3", cipher: "TLS_AES_256_GCM_SHA384" };
/** The code (and enhanced code, when there is one) of each reply's last line. */
const codes = (lines: string[]) =>
  lines.filter((l) => /^\d{3}( |$)/.test(l)).map((l) => /^\d{3}(?: \d\.\d{1,3}\.\d{1,3}(?= |$))?/.exec(l)![0]);

async function ready(options = {}): Promise<Harness> {
  const h = new Harness(options);
  await h.send("EHLO client.test\r\n");
  return h;
}

describe("greeting and EHLO", () => {
  test("the greeting and HELO carry no enhanced code; EHLO lists the extensions", async () => {
    const h = new Harness();
    expect(h.session.greeting()).toEqual({ code: 220, lines: ["mx.example.test ESMTP Postern"] });
    expect(await h.send("HELO client.test\r\n")).toEqual(["250 mx.example.test greets client.test [192.0.2.1]"]);
    const ehlo = await h.send("EHLO client.test\r\n");
    expect(ehlo).toEqual([
      "250-mx.example.test greets client.test [192.0.2.1]",
      "250-PIPELINING",
      "250-SIZE 1000",
      "250-8BITMIME",
      "250-SMTPUTF8",
      "250-ENHANCEDSTATUSCODES",
      "250-CHUNKING",
      "250-DSN",
      "250 STARTTLS",
    ]);
  });

  test("AUTH is offered only once TLS is up, unless plaintext auth is allowed; STARTTLS only before", async () => {
    const tls = await ready({ tls: TLS });
    const lines = await tls.send("EHLO again\r\n");
    expect(lines).toContain("250 AUTH PLAIN LOGIN");
    expect(lines.join("\n")).not.toContain("STARTTLS");
    const plain = await ready({ allowPlaintextAuth: true });
    expect(await plain.send("EHLO again\r\n")).toContain("250 AUTH PLAIN LOGIN");
  });
});

describe("commands in the wrong state", () => {
  // Every command that needs a state, tried in each state where it is not allowed.
  const cases: Array<[string, string, string]> = [
    ["connected", "MAIL FROM:<a@example.org>", "503 5.5.1"],
    ["connected", "RCPT TO:<alice@example.test>", "503 5.5.1"],
    ["connected", "DATA", "503 5.5.1"],
    ["connected", "AUTH PLAIN", "503 5.5.1"],
    ["ready", "RCPT TO:<alice@example.test>", "503 5.5.1"],
    ["ready", "DATA", "503 5.5.1"],
    ["mail", "MAIL FROM:<a@example.org>", "503 5.5.1"],
    ["mail", "DATA", "554 5.5.1"],
    ["mail", "STARTTLS", "503 5.5.1"],
    ["mail", "AUTH PLAIN", "503 5.5.1"],
    ["rcpt", "MAIL FROM:<a@example.org>", "503 5.5.1"],
    ["rcpt", "STARTTLS", "503 5.5.1"],
  ];
  const setup: Record<string, string> = {
    connected: "",
    ready: "EHLO c\r\n",
    mail: "EHLO c\r\nMAIL FROM:<a@example.org>\r\n",
    rcpt: "EHLO c\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<alice@example.test>\r\n",
  };
  for (const [state, command, expected] of cases) {
    test(`${command.split(" ")[0]} in state ${state} → ${expected}`, async () => {
      const h = new Harness();
      await h.send(setup[state]!);
      expect(codes(await h.send(`${command}\r\n`))).toEqual([expected]);
    });
  }

  test("the whole matrix: each command in each state is dispatched or refused with 503/554", async () => {
    const samples: Record<string, string> = {
      MAIL: "MAIL FROM:<a@example.org>",
      RCPT: "RCPT TO:<bob@example.test>",
      DATA: "DATA\r\nx\r\n.",
      BDAT: "BDAT 0 LAST",
      STARTTLS: "STARTTLS",
      AUTH: "AUTH PLAIN",
      EHLO: "EHLO c",
      HELO: "HELO c",
      RSET: "RSET",
      NOOP: "NOOP",
      HELP: "HELP",
      VRFY: "VRFY x",
      EXPN: "EXPN x",
      QUIT: "QUIT",
    };
    const allowed: Record<string, string[]> = {
      MAIL: ["ready"],
      RCPT: ["mail", "rcpt"],
      DATA: ["rcpt"],
      BDAT: ["rcpt"],
      STARTTLS: ["connected", "ready"],
      AUTH: ["ready"],
    };
    for (const [verb, line] of Object.entries(samples)) {
      for (const state of Object.keys(setup)) {
        const h = new Harness({ allowPlaintextAuth: true });
        await h.send(setup[state]!);
        const reply = codes(await h.send(`${line}\r\n`))[0]!;
        const refused = /^(503|554) 5\.5\.1$/.test(reply);
        const expected = !(verb in allowed) || allowed[verb]!.includes(state);
        expect({ verb, state, dispatched: !refused }).toEqual({ verb, state, dispatched: expected });
      }
    }
  });

  test("a refused BDAT still consumes its chunk, so the chunk is not read as commands", async () => {
    const h = await ready();
    expect(codes(await h.send("BDAT 6\r\nQUIT\r\nNOOP\r\n"))).toEqual(["503 5.5.1", "250 2.0.0"]);
    expect(h.closed).toBe(false);
  });

  test("commands that work anywhere", async () => {
    const h = new Harness();
    expect(codes(await h.send("NOOP\r\nRSET\r\nHELP\r\nVRFY alice\r\nEXPN list\r\n"))).toEqual([
      "250 2.0.0",
      "250 2.0.0",
      "214 2.0.0",
      "252 2.5.0",
      "502 5.5.1",
    ]);
    expect(await h.send("QUIT\r\n")).toEqual(["221 2.0.0 mx.example.test Bye"]);
    expect(h.closed).toBe(true);
  });

  test("garbage and unknown verbs get 500/501 without ending the session", async () => {
    const h = await ready();
    expect(codes(await h.send("FROB\r\nMAIL TO:<x>\r\n\r\n"))).toEqual(["500 5.5.1", "501 5.5.4", "500 5.5.1"]);
  });
});

describe("a mail transaction", () => {
  test("pipelined MAIL, RCPTs and DATA deliver once with a Received header", async () => {
    const h = await ready();
    const lines = await h.send(
      "MAIL FROM:<sender@example.org> SIZE=100\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n" +
        "DATA\r\nSubject: hi\r\n\r\n..leading dot\r\nbody\r\n.\r\nQUIT\r\n",
    );
    expect(codes(lines)).toEqual(["250 2.1.0", "250 2.1.5", "250 2.1.5", "354", "250 2.0.0", "221 2.0.0"]);
    expect(lines[4]).toBe("250 2.0.0 Message accepted, queued as TESTID");
    expect(h.backend.delivered).toHaveLength(1);
    const { transaction, content } = h.backend.delivered[0]!;
    expect(transaction.sender).toBe("sender@example.org");
    expect(transaction.recipients.map((r) => r.address)).toEqual(["alice@example.test", "bob@example.test"]);
    expect(content).toBe(
      "Received: from client.test ([192.0.2.1])\r\n\tby mx.example.test (Postern) with ESMTP id TESTID; Mon, 23 Nov 2026 12:00:00 +0000\r\n" +
        "Subject: hi\r\n\r\n.leading dot\r\nbody\r\n",
    );
  });

  test("the null sender, postmaster, duplicate recipients and DSN parameters", async () => {
    const h = await ready();
    await h.send(
      "MAIL FROM:<> RET=HDRS ENVID=abc+2B1\r\nRCPT TO:<postmaster> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;a+40b.test\r\n" +
        "RCPT TO:<alice@example.test>\r\nRCPT TO:<alice@EXAMPLE.test>\r\nDATA\r\nx\r\n.\r\n",
    );
    const { transaction } = h.backend.delivered[0]!;
    expect(transaction).toMatchObject({ sender: "", ret: "HDRS", envid: "abc+1" });
    expect(transaction.recipients).toEqual([
      { address: "postmaster", notify: ["SUCCESS", "FAILURE"], orcpt: "rfc822;a@b.test" },
      { address: "alice@example.test", notify: undefined, orcpt: undefined },
    ]);
  });

  test("unknown user, relay denied, temporary failure and too many recipients", async () => {
    const h = await ready();
    const lines = await h.send(
      "MAIL FROM:<s@example.org>\r\nRCPT TO:<nobody@example.test>\r\nRCPT TO:<x@elsewhere.test>\r\n" +
        "RCPT TO:<x@broken.test>\r\nRCPT TO:<alice@example.test>\r\nRCPT TO:<bob@example.test>\r\n" +
        "RCPT TO:<postmaster@example.test>\r\nRCPT TO:<alias@example.test>\r\n",
    );
    expect(codes(lines)).toEqual([
      "250 2.1.0",
      "550 5.1.1",
      "554 5.7.1",
      "451 4.3.0",
      "250 2.1.5",
      "250 2.1.5",
      "250 2.1.5",
      "452 4.5.3",
    ]);
  });

  test("RSET and EHLO abandon the transaction", async () => {
    const h = await ready();
    await h.send("MAIL FROM:<s@example.org>\r\nRSET\r\n");
    expect(codes(await h.send("RCPT TO:<alice@example.test>\r\n"))).toEqual(["503 5.5.1"]);
    await h.send("MAIL FROM:<s@example.org>\r\nEHLO again\r\n");
    expect(codes(await h.send("MAIL FROM:<s@example.org>\r\n"))).toEqual(["250 2.1.0"]);
  });

  test("a declared SIZE over the limit is refused at MAIL, real content over it after DATA", async () => {
    const h = await ready();
    expect(codes(await h.send("MAIL FROM:<s@example.org> SIZE=5000\r\n"))).toEqual(["552 5.3.4"]);
    const big = `${"x".repeat(80)}\r\n`.repeat(20);
    const lines = await h.send(
      `MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n${big}.\r\nNOOP\r\n`,
    );
    expect(codes(lines)).toEqual(["250 2.1.0", "250 2.1.5", "354", "552 5.3.4", "250 2.0.0"]);
    expect(h.backend.delivered).toHaveLength(0);
  });

  test("a failure to store is 451 4.3.0, never 250", async () => {
    const h = await ready();
    h.backend.failDelivery = true;
    const lines = await h.send("MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nx\r\n.\r\n");
    expect(codes(lines).at(-1)).toBe("451 4.3.0");
  });

  test("non-ASCII addresses need SMTPUTF8", async () => {
    const h = await ready();
    expect(codes(await h.send("MAIL FROM:<jösé@example.org>\r\n"))).toEqual(["553 5.6.7"]);
    const lines = await h.send(
      "MAIL FROM:<jösé@example.org> SMTPUTF8\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nx\r\n.\r\n",
    );
    expect(codes(lines).at(-1)).toBe("250 2.0.0");
    expect(h.backend.delivered[0]!.content).toContain("with UTF8SMTP id");
  });
});

describe("the SMTP smuggling defence", () => {
  const prefix = "MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: a\r\n\r\nbody";
  const smuggled = "MAIL FROM:<evil@example.org>\r\nRCPT TO:<bob@example.test>\r\nDATA\r\nforged\r\n";
  for (const ending of ["\n.\n", "\n.\r\n", "\r.\r", "\r\n.\n", "\r\n.\r"]) {
    test(`${JSON.stringify(ending)} neither ends nor splits the message, which is refused`, async () => {
      const h = await ready();
      const lines = await h.send(`${prefix}${ending}${smuggled}\r\n.\r\n`);
      expect(codes(lines)).toEqual(["250 2.1.0", "250 2.1.5", "354", "550 5.6.0"]);
      expect(h.backend.delivered).toHaveLength(0);
    });
  }

  test("a plain CRLF.CRLF does end the message", async () => {
    const h = await ready();
    expect(codes(await h.send(`${prefix}\r\n.\r\n`)).at(-1)).toBe("250 2.0.0");
    expect(h.backend.delivered).toHaveLength(1);
  });
});

describe("NUL in message data (limits.rejectNul)", () => {
  const message =
    "MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\nSubject: a\r\n\r\nx\0y\r\n.\r\n";

  test("is refused with 550 5.6.0 when on, over DATA and BDAT, and nothing is delivered", async () => {
    const h = await ready({ rejectNul: true });
    expect(codes(await h.send(message)).at(-1)).toBe("550 5.6.0");
    const bdat = "MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nBDAT 5 LAST\r\na\0b\r\n";
    expect(codes(await h.send(bdat)).at(-1)).toBe("550 5.6.0");
    expect(h.backend.delivered).toHaveLength(0);
  });

  test("is passed on when off", async () => {
    const h = await ready({ rejectNul: false });
    expect(codes(await h.send(message)).at(-1)).toBe("250 2.0.0");
    expect(h.backend.delivered[0]!.content).toContain("x\0y");
  });
});

describe("the spool", () => {
  /** A session whose spools move to a temporary directory past 64 bytes; `spools` lists them. */
  async function spooling(options: Record<string, unknown> = {}) {
    const { tempDir } = await import("../helpers/tmp.ts");
    const { Spool } = await import("../../src/util/spool.ts");
    const dir = tempDir();
    const spools: InstanceType<typeof Spool>[] = [];
    const h = await ready({
      maxMessageSize: 100_000,
      ...options,
      spool: () => {
        const spool = new Spool({ dir: dir.path, memoryLimit: 64 });
        spools.push(spool);
        return spool;
      },
    });
    return { h, dir, spools };
  }

  test("a message spooled to a file in small pieces is delivered byte for byte, and the file is gone", async () => {
    const { readdirSync } = await import("node:fs");
    const { h, dir, spools } = await spooling({ maxCommands: 1000 });
    try {
      const body = Array.from({ length: 300 }, (_, i) => `line ${i} ${"z".repeat(i % 90)}`).join("\r\n");
      const parts = body.match(/[^]{1,100}/g)!;
      const bdat = parts.map((p, i) => `BDAT ${p.length}${i === parts.length - 1 ? " LAST" : ""}\r\n${p}`).join("");
      const lines = await h.send(`MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\n${bdat}`);
      expect(codes(lines).at(-1)).toBe("250 2.0.0");
      expect(spools[0]!.spilled).toBe(true);
      expect(h.backend.delivered[0]!.content).toEndWith(body);
      // Unlinked as soon as it was opened: nothing is left in the directory, even before the spool is discarded.
      expect(readdirSync(dir.path).filter((f) => f.startsWith("spool-"))).toEqual([]);
    } finally {
      dir.cleanup();
    }
  });

  test("a DATA message larger than the memory limit moves to the file as it arrives", async () => {
    const { h, dir, spools } = await spooling();
    try {
      const body = Array.from({ length: 30 }, (_, i) => `${i % 7 ? "" : "."}line ${i} ${"z".repeat(i % 10)}`);
      const lines = await h.send(
        `MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n${
          body.map((l) => (l.startsWith(".") ? `.${l}` : l)).join("\r\n")
        }\r\n.\r\n`,
      );
      expect(codes(lines).at(-1)).toBe("250 2.0.0");
      expect(spools[0]!.spilled).toBe(true);
      expect(h.backend.delivered[0]!.content).toEndWith(`${body.join("\r\n")}\r\n`);
    } finally {
      dir.cleanup();
    }
  });
});

describe("BDAT (RFC 3030)", () => {
  test("chunks of mixed sizes, then BDAT LAST, make one message", async () => {
    const h = await ready();
    const lines = await h.send(
      "MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nBDAT 14\r\nSubject: x\r\n\r\nBDAT 1\r\nABDAT 0\r\nBDAT 7 LAST\r\nbc\r\n.\r\n",
    );
    expect(codes(lines)).toEqual(["250 2.1.0", "250 2.1.5", "250 2.0.0", "250 2.0.0", "250 2.0.0", "250 2.0.0"]);
    expect(h.backend.delivered[0]!.content).toEndWith("Subject: x\r\n\r\nAbc\r\n.\r\n");
  });

  test("BDAT 0 LAST completes a message; DATA cannot follow BDAT", async () => {
    const h = await ready();
    const lines = await h.send(
      "MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nBDAT 3\r\nabcDATA\r\nBDAT 0 LAST\r\n",
    );
    expect(codes(lines)).toEqual(["250 2.1.0", "250 2.1.5", "250 2.0.0", "503 5.5.1", "250 2.0.0"]);
    expect(h.backend.delivered[0]!.content).toEndWith("abc");
  });

  test("chunks over the size limit are discarded and the message refused", async () => {
    const h = await ready();
    const chunk = "y".repeat(600);
    const lines = await h.send(
      `MAIL FROM:<s@example.org>\r\nRCPT TO:<alice@example.test>\r\nBDAT 600\r\n${chunk}BDAT 600 LAST\r\n${chunk}NOOP\r\n`,
    );
    expect(codes(lines)).toEqual(["250 2.1.0", "250 2.1.5", "250 2.0.0", "552 5.3.4", "250 2.0.0"]);
    expect(h.backend.delivered).toHaveLength(0);
  });
});

describe("STARTTLS and AUTH", () => {
  test("STARTTLS resets the session: EHLO is needed again and pipelined input is dropped", async () => {
    const h = await ready();
    expect(codes(await h.send("STARTTLS\r\nRSET\r\n"))).toEqual(["220 2.0.0"]);
    expect(h.tlsStarted).toBe(true);
    expect(codes(await h.send("MAIL FROM:<s@example.org>\r\n"))).toEqual(["503 5.5.1"]);
    expect(codes(await h.send("EHLO c\r\nSTARTTLS\r\n"))).toEqual(["250", "503 5.5.1"]);
  });

  test("AUTH is refused in the clear with 538", async () => {
    const h = await ready();
    expect(codes(await h.send("AUTH PLAIN AGFsaWNlQGV4YW1wbGUudGVzdABzZWNyZXQ=\r\n"))).toEqual(["538 5.7.11"]);
    expect(h.backend.authAttempts).toBe(0);
  });

  test("PLAIN with an initial response, and LOGIN in steps", async () => {
    const plain = await ready({ tls: TLS });
    expect(codes(await plain.send(`AUTH PLAIN ${btoa("\0alice@example.test\0secret")}\r\n`))).toEqual(["235 2.7.0"]);
    expect(codes(await plain.send(`AUTH PLAIN ${btoa("\0alice@example.test\0secret")}\r\n`))).toEqual(["503 5.5.1"]);

    const login = await ready({ tls: TLS });
    expect(await login.send("AUTH LOGIN\r\n")).toEqual(["334 VXNlcm5hbWU6"]);
    expect(await login.send(`${btoa("alice@example.test")}\r\n`)).toEqual(["334 UGFzc3dvcmQ6"]);
    expect(codes(await login.send(`${btoa("secret")}\r\n`))).toEqual(["235 2.7.0"]);
    const lines = await login.send(
      "EHLO c\r\nMAIL FROM:<x@elsewhere.test>\r\nRCPT TO:<y@remote.test>\r\nDATA\r\nx\r\n.\r\n",
    );
    expect(codes(lines).slice(1)).toEqual(["250 2.1.0", "250 2.1.5", "354", "250 2.0.0"]);
    expect(login.backend.delivered[0]!.content).toContain("with ESMTPSA id TESTID");
  });

  test("PLAIN without an initial response gets an empty challenge; * cancels; bad base64 is 501", async () => {
    const h = await ready({ tls: TLS });
    expect(await h.send("AUTH PLAIN\r\n")).toEqual(["334 "]);
    expect(codes(await h.send("*\r\n"))).toEqual(["501 5.0.0"]);
    expect(codes(await h.send("AUTH PLAIN\r\n!!!\r\n"))).toEqual(["334", "501 5.5.2"]);
    expect(codes(await h.send("AUTH CRAM-MD5\r\n"))).toEqual(["504 5.5.4"]);
  });

  test("failed AUTH does not say why, and the session closes after the configured failures", async () => {
    const h = await ready({ tls: TLS });
    const wrong = await h.send(`AUTH PLAIN ${btoa("\0alice@example.test\0nope")}\r\n`);
    const missing = await h.send(`AUTH PLAIN ${btoa("\0ghost@example.test\0nope")}\r\n`);
    expect(wrong).toEqual(["535 5.7.8 Authentication credentials invalid"]);
    expect(missing).toEqual(wrong);
    expect(codes(await h.send(`AUTH PLAIN ${btoa("\0bob@example.test\0nope")}\r\n`))).toEqual([
      "535 5.7.8",
      "421 4.7.0",
    ]);
    expect(h.closed).toBe(true);
  });

  test("submission requires AUTH before MAIL and an owned sender and From", async () => {
    const h = await ready({ role: "submission", tls: TLS });
    expect(codes(await h.send("MAIL FROM:<alice@example.test>\r\n"))).toEqual(["530 5.7.0"]);
    await h.send(`AUTH PLAIN ${btoa("\0alice@example.test\0secret")}\r\n`);
    expect(codes(await h.send("MAIL FROM:<bob@example.test>\r\n"))).toEqual(["553 5.7.1"]);
    expect(codes(await h.send("MAIL FROM:<alias@example.test>\r\n"))).toEqual(["250 2.1.0"]);
  });
});

describe("limits", () => {
  test("too many errors end the session with 421", async () => {
    const h = await ready({ maxErrors: 3 });
    expect(codes(await h.send("FROB\r\nFROB\r\nFROB\r\nNOOP\r\n"))).toEqual([
      "500 5.5.1",
      "500 5.5.1",
      "500 5.5.1",
      "421 4.7.0",
    ]);
    expect(h.closed).toBe(true);
  });

  test("too many commands end the session with 421", async () => {
    const h = await ready({ maxCommands: 3 });
    expect(codes(await h.send("NOOP\r\nNOOP\r\nNOOP\r\n"))).toEqual(["250 2.0.0", "250 2.0.0", "421 4.7.0"]);
  });

  test("an over-long command line is 500 5.5.2", async () => {
    const h = await ready();
    expect(
      codes([
        ...(await h.session.commandLine({ kind: "too-long", length: 9000, crlf: true })).replies.map((r) =>
          `${r.code} ${r.enhanced}`
        ),
      ]),
    ).toEqual(["500 5.5.2"]);
  });

  test("timeout and shutdown say 421 and close", () => {
    const h = new Harness();
    expect(h.session.interrupted("timeout").replies[0]).toMatchObject({ code: 421, enhanced: "4.4.2" });
    expect(h.session.interrupted("shutdown")).toMatchObject({
      replies: [{ code: 421, enhanced: "4.3.2" }],
      action: { kind: "close" },
    });
  });
});
