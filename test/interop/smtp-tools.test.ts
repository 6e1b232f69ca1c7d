/**
 * SMTP against the tools a mail administrator reaches for: swaks (Debian package) and Python's
 * smtplib. Each test skips, saying which tool is missing, where it is not installed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import type { ServerProcess } from "../helpers/server.ts";

const swaks = Bun.which("swaks");
// swaks needs Net::SSLeay (Debian: libnet-ssleay-perl) for STARTTLS.
const swaksTls = swaks !== null && Bun.spawnSync(["perl", "-MNet::SSLeay", "-e", "1"]).exitCode === 0;
const python = Bun.which("python3");
if (!swaks) console.warn("skipping swaks interoperability tests: swaks is not installed (apt-get install swaks)");
if (swaks && !swaksTls) {
  console.warn("skipping swaks STARTTLS test: Net::SSLeay is missing (apt-get install libnet-ssleay-perl)");
}
if (!python) console.warn("skipping smtplib interoperability tests: python3 is not installed");

let mail: MailServer | undefined;
let server: ServerProcess;
let dataDir: string;

beforeAll(async () => {
  if (!swaks && !python) return;
  mail = await startMailServer({
    waitFor: ["smtp", "submission", "submissions"],
    users: { "alice@example.test": "alice-password", "bob@example.test": "bob-password" },
  });
  ({ server, dataDir } = mail);
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

async function run(cmd: string[], stdin?: string): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn(cmd, {
    stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, output: out + err };
}

describe(`SMTP interoperability on ${runtime()}`, () => {
  test.skipIf(!swaksTls)(
    "swaks: STARTTLS + AUTH PLAIN on submission lands in the INBOX with Received and Authentication-Results",
    async () => {
      const { code, output } = await run([
        swaks!,
        "--server",
        "127.0.0.1",
        "--port",
        String(server.ports.submission),
        "--tls",
        "--auth",
        "PLAIN",
        "--auth-user",
        "alice@example.test",
        "--auth-password",
        "alice-password",
        "--from",
        "alice@example.test",
        "--to",
        "bob@example.test",
        "--helo",
        "swaks.test",
        "--header",
        "Subject: swaks over starttls",
        "--header",
        "From: alice@example.test",
        "--body",
        "sent by swaks",
      ]);
      expect(output).toContain("<-  220 2.0.0 Ready to start TLS");
      expect(output).toMatch(/=== TLS started with cipher TLSv1\.[23]/);
      expect(output).toContain("~> AUTH PLAIN");
      expect(output).toContain("<~  235 2.7.0 Authentication successful");
      expect(output).toMatch(/<~ {2}250 2\.0\.0 Message accepted/);
      expect(code).toBe(0);
      const stored = (await readInbox(dataDir, "bob@example.test")).find((m) => m.raw.includes("swaks over starttls"));
      expect(stored).toBeDefined();
      expect(stored!.raw).toMatch(
        /^Authentication-Results: mx\.postern\.test; auth=pass smtp\.auth=alice@example\.test\r\n/,
      );
      expect(stored!.raw).toMatch(
        /Received: from swaks\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.postern\.test \(Postern\) with ESMTPSA id \w+\r\n\t\(version=TLSv1\.[23] cipher=/,
      );
    },
  );

  test.skipIf(!swaks)("swaks: PIPELINING to the MX with several recipients, one refused", async () => {
    const { code, output } = await run([
      swaks!,
      "--server",
      "127.0.0.1",
      "--port",
      String(server.ports.smtp),
      "--pipeline",
      "--from",
      "someone@remote.test",
      "--to",
      "alice@example.test,nobody@example.test,bob@example.test",
      "--helo",
      "swaks.test",
      "--header",
      "Subject: swaks pipelined",
    ]);
    // swaks sends MAIL, the RCPTs and DATA in one batch (RFC 2920) and reads the replies together.
    expect(output).toMatch(
      /-> MAIL FROM:<someone@remote\.test>\n -> RCPT TO:<alice@example\.test>\n -> RCPT TO:<nobody@example\.test>\n -> RCPT TO:<bob@example\.test>\n -> DATA\n<- {2}250 2\.1\.0/,
    );
    expect(output).toContain("<** 550 5.1.1 Mailbox unavailable");
    expect(output).toMatch(/<- {2}250 2\.0\.0 Message accepted/);
    expect(code).toBe(0);
    for (const who of ["alice@example.test", "bob@example.test"]) {
      const stored = (await readInbox(dataDir, who)).find((m) => m.raw.includes("swaks pipelined"));
      expect(stored?.raw).toContain("Authentication-Results: mx.postern.test;");
    }
  });

  test.skipIf(!python)("Python smtplib: STARTTLS, LOGIN and sendmail, then a refused relay", async () => {
    const script = `
import smtplib, ssl, sys
port = int(sys.argv[1])
context = ssl._create_unverified_context()
with smtplib.SMTP("127.0.0.1", port, local_hostname="smtplib.test") as s:
    s.starttls(context=context)
    s.login("bob@example.test", "bob-password")
    refused = s.sendmail("bob@example.test", ["alice@example.test"], b"From: bob@example.test\\r\\nSubject: from smtplib\\r\\n\\r\\nhello from python\\r\\n")
    print("refused", refused)
with smtplib.SMTP("127.0.0.1", int(sys.argv[2]), local_hostname="smtplib.test") as s:
    try:
        s.sendmail("x@remote.test", ["someone@elsewhere.test"], b"Subject: relay\\r\\n\\r\\nx\\r\\n")
    except smtplib.SMTPRecipientsRefused as e:
        print("relay", e.recipients["someone@elsewhere.test"][0], e.recipients["someone@elsewhere.test"][1].decode())
`;
    const { code, output } = await run([
      python!,
      "-c",
      script,
      String(server.ports.submission),
      String(server.ports.smtp),
    ]);
    expect(output).toContain("refused {}");
    expect(output).toContain("relay 554 5.7.1 Relay access denied");
    expect(code).toBe(0);
    const stored = (await readInbox(dataDir, "alice@example.test")).find((m) => m.raw.includes("from smtplib"));
    expect(stored!.raw).toContain("with ESMTPSA id");
  });
});
