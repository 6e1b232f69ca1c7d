import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AuthThrottle } from "../../src/auth/throttle.ts";
import { StoreManageSieveBackend } from "../../src/backends/managesieve.ts";
import { CommandReader, PRE_LOGIN_LIMITS } from "../../src/managesieve/reader.ts";
import { ManageSieveSession, type ManageSieveSessionOptions } from "../../src/managesieve/session.ts";
import { openTempStore } from "../helpers/store.ts";

const enc = new TextEncoder();
const TLS = { protocol: "TLSv1.3", cipher: "x" };
const OPTIONS: ManageSieveSessionOptions = {
  hostname: "sieve.example.test",
  remoteAddress: "192.0.2.1",
  tls: TLS,
  allowPlaintextAuth: false,
  maxAuthFailures: 3,
  maxErrors: 20,
  maxRedirects: 4,
};
const PLAIN = btoa("\0ann@example.test\0ann-password");

let opened: Awaited<ReturnType<typeof openTempStore>>;
let backend: StoreManageSieveBackend;

beforeAll(async () => {
  opened = await openTempStore();
  await opened.store.domains.add("example.test");
  await opened.store.accounts.add({ address: "ann@example.test", password: "ann-password" });
  backend = new StoreManageSieveBackend(
    opened.store,
    new AuthThrottle({ threshold: 100, counters: opened.store.policy }),
  );
});
afterAll(() => opened?.cleanup());

/**
 * Feeds `input` to a session the way server.ts does: lines through the CommandReader, literals read by size, the
 * skipped bytes of a refused literal dropped. Returns everything the session answered.
 */
class Driver {
  session: ManageSieveSession;
  reader = new CommandReader(PRE_LOGIN_LIMITS);
  closed = false;
  starttls = false;
  constructor(options: Partial<ManageSieveSessionOptions> = {}) {
    this.session = new ManageSieveSession({ ...OPTIONS, ...options }, backend);
  }
  async send(input: string): Promise<string> {
    let bytes = enc.encode(input);
    let out = "";
    while (bytes.length > 0 && !this.closed) {
      const lf = bytes.indexOf(0x0a);
      const line = bytes.subarray(0, lf > 0 && bytes[lf - 1] === 0x0d ? lf - 1 : lf);
      bytes = bytes.subarray(lf + 1);
      const read = this.reader.pushLine(line);
      if (read === null) continue;
      if (read.kind === "literal") {
        this.reader.pushLiteral(bytes.slice(0, read.size));
        bytes = bytes.subarray(read.size);
        continue;
      }
      if (read.kind === "error") {
        bytes = bytes.subarray(read.discard);
        if (!read.message) continue;
        out += this.session.refuse(read.message, read.tooBig).output;
        continue;
      }
      const step = await this.session.command(read.command);
      out += step.output;
      this.reader.setLimits(
        this.session.state === "authenticated"
          ? { maxLiteralSize: 1 << 20, maxCommandSize: 2 << 20 }
          : PRE_LOGIN_LIMITS,
      );
      if (step.action.kind === "close") this.closed = true;
      if (step.action.kind === "starttls") this.starttls = true;
    }
    return out;
  }
}

async function loggedIn(): Promise<Driver> {
  const d = new Driver();
  expect(await d.send(`AUTHENTICATE "PLAIN" "${PLAIN}"\r\n`)).toBe('OK "Authenticated"\r\n');
  return d;
}

const literal = (text: string) => `{${enc.encode(text).length}+}\r\n${text}`;

describe("ManageSieve session", () => {
  test("each command in each state: allowed ones are dispatched, the others refused", async () => {
    const samples: Record<string, string> = {
      AUTHENTICATE: `AUTHENTICATE "PLAIN" "${PLAIN}"`,
      STARTTLS: "STARTTLS",
      LOGOUT: "LOGOUT",
      CAPABILITY: "CAPABILITY",
      HAVESPACE: 'HAVESPACE "x" 10',
      PUTSCRIPT: 'PUTSCRIPT "x" "keep;"',
      LISTSCRIPTS: "LISTSCRIPTS",
      SETACTIVE: 'SETACTIVE ""',
      GETSCRIPT: 'GETSCRIPT "nothing"',
      DELETESCRIPT: 'DELETESCRIPT "nothing"',
      RENAMESCRIPT: 'RENAMESCRIPT "nothing" "other"',
      CHECKSCRIPT: 'CHECKSCRIPT "keep;"',
      NOOP: "NOOP",
      UNAUTHENTICATE: "UNAUTHENTICATE",
    };
    const before = ["AUTHENTICATE", "STARTTLS", "LOGOUT", "CAPABILITY", "NOOP"];
    const after = Object.keys(samples).filter((c) => c !== "AUTHENTICATE" && c !== "STARTTLS");
    for (const [command, line] of Object.entries(samples)) {
      const fresh = await new Driver({ tls: null, allowPlaintextAuth: true }).send(`${line}\r\n`);
      expect({ command, refused: fresh.includes("is not allowed before authentication") }).toEqual({
        command,
        refused: !before.includes(command),
      });
      const authed = await (await loggedIn()).send(`${line}\r\n`);
      expect({ command, refused: authed.includes("is not allowed after authentication") }).toEqual({
        command,
        refused: !after.includes(command),
      });
    }
    await (await loggedIn()).send('DELETESCRIPT "x"\r\n');
  });

  test("greeting and CAPABILITY: implementation, SASL, SIEVE, STARTTLS, MAXREDIRECTS, OWNER, VERSION", async () => {
    const plain = new ManageSieveSession({ ...OPTIONS, tls: null }, backend);
    const greeting = plain.greeting();
    expect(greeting).toStartWith('"IMPLEMENTATION" "Postern"\r\n"SASL" ""\r\n"SIEVE" "fileinto reject ');
    expect(greeting).toContain('"STARTTLS"\r\n"MAXREDIRECTS" "4"\r\n"UNAUTHENTICATE"\r\n"VERSION" "1.0"\r\n');
    expect(greeting).toEndWith('OK "sieve.example.test ManageSieve ready"\r\n');
    expect(greeting).not.toContain("OWNER");
    // After TLS: mechanisms offered, no STARTTLS (RFC 5804 §2.2: capabilities re-issued unasked).
    const tls = plain.tlsStarted(TLS);
    expect(tls).toContain('"SASL" "PLAIN LOGIN"\r\n');
    expect(tls).not.toContain("STARTTLS");
    expect(tls).toEndWith('OK "TLS negotiation successful"\r\n');
    const d = await loggedIn();
    const caps = await d.send("capability\r\n");
    expect(caps).toContain('"OWNER" "ann@example.test"\r\n');
    expect(caps).not.toContain('"SASL"');
    expect(caps).toEndWith('OK "Capability completed"\r\n');
  });

  test("STARTTLS: refused once TLS is up", async () => {
    const d = new Driver({ tls: null });
    expect(await d.send("STARTTLS\r\n")).toBe('OK "Begin TLS negotiation now"\r\n');
    expect(d.starttls).toBe(true);
    expect(await new Driver().send("STARTTLS\r\n")).toBe('NO "TLS is already active"\r\n');
  });

  test("AUTHENTICATE: PLAIN and LOGIN, continuation, cancel, failures, no password without TLS", async () => {
    expect(await new Driver({ tls: null }).send(`AUTHENTICATE "PLAIN" "${PLAIN}"\r\n`)).toBe(
      'NO (ENCRYPT-NEEDED) "Authentication needs TLS; use STARTTLS"\r\n',
    );
    expect(await new Driver({ tls: null, allowPlaintextAuth: true }).send(`AUTHENTICATE "PLAIN" "${PLAIN}"\r\n`)).toBe(
      'OK "Authenticated"\r\n',
    );
    // PLAIN without an initial response: an empty challenge, the response as a literal.
    const d = new Driver();
    expect(await d.send('AUTHENTICATE "PLAIN"\r\n')).toBe('""\r\n');
    expect(await d.send(`${literal(PLAIN)}\r\n`)).toBe('OK "Authenticated"\r\n');
    expect(d.session.state).toBe("authenticated");
    const login = new Driver();
    expect(await login.send('AUTHENTICATE "LOGIN"\r\n')).toBe(`"${btoa("Username:")}"\r\n`);
    expect(await login.send(`"${btoa("ann@example.test")}"\r\n`)).toBe(`"${btoa("Password:")}"\r\n`);
    expect(await login.send(`"${btoa("ann-password")}"\r\n`)).toBe('OK "Authenticated"\r\n');
    const cancel = new Driver();
    await cancel.send('AUTHENTICATE "PLAIN"\r\n');
    expect(await cancel.send('"*"\r\n')).toBe('NO "Authentication cancelled"\r\n');
    expect(await cancel.send('AUTHENTICATE "PLAIN" "not base64!"\r\n')).toBe(
      'NO "Malformed authentication response"\r\n',
    );
    expect(await cancel.send('AUTHENTICATE "CRAM-MD5"\r\n')).toBe('NO "Unsupported mechanism CRAM-MD5"\r\n');
    const wrong = new Driver();
    const bad = btoa("\0ann@example.test\0wrong");
    expect(await wrong.send(`AUTHENTICATE "PLAIN" "${bad}"\r\n`)).toBe('NO "Authentication failed"\r\n');
    expect(await wrong.send(`AUTHENTICATE "PLAIN" "${bad}"\r\n`)).toBe('NO "Authentication failed"\r\n');
    expect(await wrong.send(`AUTHENTICATE "PLAIN" "${bad}"\r\n`)).toBe(
      'BYE "Authentication failed; too many failures"\r\n',
    );
    expect(wrong.closed).toBe(true);
    // Someone else's authorization identity is a failed login.
    const other = btoa("bob@example.test\0ann@example.test\0ann-password");
    expect(await new Driver().send(`AUTHENTICATE "PLAIN" "${other}"\r\n`)).toBe('NO "Authentication failed"\r\n');
  });

  test("PUTSCRIPT, LISTSCRIPTS, GETSCRIPT, SETACTIVE, RENAMESCRIPT, DELETESCRIPT and their refusals", async () => {
    const d = await loggedIn();
    const script = 'require "fileinto";\r\nif header :contains "subject" "invoice" { fileinto "Bills"; }\r\n';
    expect(await d.send(`PUTSCRIPT "bills" ${literal(script)}\r\n`)).toBe('OK "Putscript completed"\r\n');
    expect(await d.send('PUTSCRIPT "other" "keep;"\r\n')).toBe('OK "Putscript completed"\r\n');
    expect(await d.send("LISTSCRIPTS\r\n")).toBe('"bills"\r\n"other"\r\nOK "Listscripts completed"\r\n');
    expect(await d.send('GETSCRIPT "bills"\r\n')).toBe(
      `{${enc.encode(script).length}}\r\n${script}\r\nOK "Getscript completed"\r\n`,
    );
    expect(await d.send('GETSCRIPT "none"\r\n')).toBe('NO (NONEXISTENT) "There is no script named none"\r\n');
    expect(await d.send('SETACTIVE "bills"\r\n')).toBe('OK "Setactive completed"\r\n');
    expect(await d.send("LISTSCRIPTS\r\n")).toBe('"bills" ACTIVE\r\n"other"\r\nOK "Listscripts completed"\r\n');
    expect(await d.send('SETACTIVE "none"\r\n')).toBe('NO (NONEXISTENT) "There is no script named none"\r\n');
    expect(await d.send('DELETESCRIPT "bills"\r\n')).toBe(
      'NO (ACTIVE) "Script bills is active; deactivate it first"\r\n',
    );
    expect(await d.send('RENAMESCRIPT "bills" "other"\r\n')).toBe(
      'NO (ALREADYEXISTS) "A script named other already exists"\r\n',
    );
    expect(await d.send('RENAMESCRIPT "none" "x"\r\n')).toBe('NO (NONEXISTENT) "There is no script named none"\r\n');
    expect(await d.send('RENAMESCRIPT "bills" "invoices"\r\n')).toBe('OK "Renamescript completed"\r\n');
    // The active script stays active under its new name (RFC 5804 §2.11.1).
    expect(await d.send("LISTSCRIPTS\r\n")).toBe('"invoices" ACTIVE\r\n"other"\r\nOK "Listscripts completed"\r\n');
    expect(await d.send('RENAMESCRIPT "other" "a/b"\r\n')).toStartWith('NO "Invalid script name');
    expect(await d.send('SETACTIVE ""\r\n')).toBe('OK "Setactive completed"\r\n');
    expect(await d.send('DELETESCRIPT "invoices"\r\n')).toBe('OK "Deletescript completed"\r\n');
    expect(await d.send('DELETESCRIPT "invoices"\r\n')).toBe(
      'NO (NONEXISTENT) "There is no script named invoices"\r\n',
    );
    expect(await d.send('DELETESCRIPT "other"\r\n')).toBe('OK "Deletescript completed"\r\n');
    expect(await d.send("LISTSCRIPTS\r\n")).toBe('OK "Listscripts completed"\r\n');
    // A name that needs quoting comes back escaped.
    expect(await d.send('PUTSCRIPT "say \\"hi\\"" "keep;"\r\n')).toBe('OK "Putscript completed"\r\n');
    expect(await d.send("LISTSCRIPTS\r\n")).toBe('"say \\"hi\\""\r\nOK "Listscripts completed"\r\n');
    await d.send('DELETESCRIPT "say \\"hi\\""\r\n');
  });

  test("PUTSCRIPT and CHECKSCRIPT refuse invalid scripts with line and column; nothing is stored", async () => {
    const d = await loggedIn();
    const broken = 'require "fileinto";\r\nif true {\r\n  fileinto "x"\r\n}\r\n';
    const no = await d.send(`PUTSCRIPT "broken" ${literal(broken)}\r\n`);
    expect(no).toMatch(/^NO "line 4, column 1: .+"\r\n$/);
    expect(await d.send("LISTSCRIPTS\r\n")).toBe('OK "Listscripts completed"\r\n');
    expect(await d.send(`CHECKSCRIPT ${literal(broken)}\r\n`)).toBe(no);
    expect(await d.send('CHECKSCRIPT "require \\"nosuch\\";"\r\n')).toMatch(/^NO "line 1, column 9: .+"\r\n$/);
    expect(await d.send(`CHECKSCRIPT ${literal("keep;\r\n")}\r\n`)).toBe('OK "Script is valid"\r\n');
    expect(await d.send('PUTSCRIPT "" "keep;"\r\n')).toStartWith('NO "Invalid script name');
    // Not UTF-8.
    const latin1 = new Driver();
    const out = await latin1.send(`AUTHENTICATE "PLAIN" "${PLAIN}"\r\n`);
    expect(out).toBe('OK "Authenticated"\r\n');
    latin1.reader.pushLine(enc.encode('PUTSCRIPT "x" {2+}'));
    latin1.reader.pushLiteral(new Uint8Array([0xe9, 0x3b]));
    const read = latin1.reader.pushLine(new Uint8Array());
    if (read?.kind !== "command") throw new Error(`expected a command, got ${JSON.stringify(read)}`);
    const step = await latin1.session.command(read.command);
    expect(step.output).toBe('NO "PUTSCRIPT argument 2 is not UTF-8"\r\n');
  });

  test("HAVESPACE and the quotas: QUOTA/MAXSIZE, QUOTA/MAXSCRIPTS", async () => {
    const d = await loggedIn();
    expect(await d.send('HAVESPACE "x" 1000\r\n')).toBe('OK "Putscript would succeed"\r\n');
    expect(await d.send(`HAVESPACE "x" ${backend.limits.maxSize + 1}\r\n`)).toBe(
      `NO (QUOTA/MAXSIZE) "Scripts are limited to ${backend.limits.maxSize} bytes"\r\n`,
    );
    expect(await d.send('HAVESPACE "x" abc\r\n')).toBe('NO "HAVESPACE argument 2 must be a number"\r\n');
    expect(await d.send('HAVESPACE "x" 99999999999\r\n')).toBe('NO "HAVESPACE argument 2 must be a number"\r\n');
    // A literal larger than the reader allows is skipped and refused with MAXSIZE.
    d.reader.setLimits({ maxLiteralSize: 10, maxCommandSize: 100 });
    expect(await d.send(`PUTSCRIPT "big" ${literal("keep; # a long comment")}\r\nNOOP\r\n`)).toBe(
      'NO (QUOTA/MAXSIZE) "Script too large"\r\nOK "Done"\r\n',
    );
    for (let i = 0; i < backend.limits.maxScripts; i++) await d.send(`PUTSCRIPT "s${i}" "keep;"\r\n`);
    expect(await d.send('HAVESPACE "new" 10\r\n')).toBe(
      `NO (QUOTA/MAXSCRIPTS) "An account may keep at most ${backend.limits.maxScripts} scripts"\r\n`,
    );
    expect(await d.send('PUTSCRIPT "new" "keep;"\r\n')).toStartWith("NO (QUOTA/MAXSCRIPTS)");
    // Replacing an existing script is still allowed.
    expect(await d.send('HAVESPACE "s1" 10\r\n')).toBe('OK "Putscript would succeed"\r\n');
    expect(await d.send('PUTSCRIPT "s1" "discard;"\r\n')).toBe('OK "Putscript completed"\r\n');
    for (let i = 0; i < backend.limits.maxScripts; i++) await d.send(`DELETESCRIPT "s${i}"\r\n`);
    expect(await d.send("LISTSCRIPTS\r\n")).toBe('OK "Listscripts completed"\r\n');
  });

  test("NOOP with a tag, UNAUTHENTICATE, LOGOUT", async () => {
    const d = await loggedIn();
    expect(await d.send("NOOP\r\n")).toBe('OK "Done"\r\n');
    expect(await d.send('NOOP "STARTTLS-SYNC-42"\r\n')).toBe('OK (TAG "STARTTLS-SYNC-42") "Done"\r\n');
    expect(await d.send("UNAUTHENTICATE\r\n")).toBe('OK "Unauthenticated"\r\n');
    expect(d.session.state).toBe("non-authenticated");
    expect(await d.send("LISTSCRIPTS\r\n")).toBe('NO "LISTSCRIPTS is not allowed before authentication"\r\n');
    expect(await d.send("LOGOUT\r\n")).toBe('OK "Logout complete"\r\n');
    expect(d.closed).toBe(true);
  });

  test("syntax errors get NO, and too many end the session with BYE", async () => {
    const d = new Driver({ maxErrors: 8 });
    expect(await d.send("FROB\r\n")).toBe('NO "Unknown command FROB"\r\n');
    expect(await d.send('"CAPABILITY"\r\n')).toBe('NO "Expected a command name"\r\n');
    expect(await d.send('NOOP "unterminated\r\n')).toBe('NO "Unterminated quoted string"\r\n');
    expect(await d.send('NOOP "a\\b"\r\n')).toBe(
      'NO "Only \\\\\\" and \\\\\\\\ may be escaped in a quoted string"\r\n',
    );
    expect(await d.send('NOOP "a""b"\r\n')).toBe('NO "Arguments are separated by a space"\r\n');
    expect(await d.send("CAPABILITY extra\r\n")).toBe('NO "CAPABILITY takes 0 arguments"\r\n');
    expect(await d.send(`NOOP "${"x".repeat(1025)}"\r\n`)).toBe(
      'NO "Quoted strings are limited to 1024 octets; send a literal"\r\n',
    );
    expect(await d.send("NOOP {x}\r\n")).toBe('NO "Unexpected \\"{x}\\""\r\nBYE "Too many errors"\r\n');
    expect(d.closed).toBe(true);
  });

  test("before login a literal over the small limit is refused; a line with NUL too", async () => {
    const d = new Driver();
    expect(await d.send(`AUTHENTICATE "PLAIN" {9000+}\r\n${"A".repeat(9000)}\r\nNOOP\r\n`)).toBe(
      'NO "Literal too large"\r\nOK "Done"\r\n',
    );
    expect(await d.send("NOOP\0\r\n")).toBe('NO "NUL is not allowed in a command"\r\n');
  });

  test("interrupted: BYE on shutdown and timeout", () => {
    const s = new ManageSieveSession(OPTIONS, backend);
    expect(s.interrupted("shutdown").output).toBe('BYE (TRYLATER) "Server shutting down"\r\n');
    expect(new ManageSieveSession(OPTIONS, backend).interrupted("timeout").output).toBe(
      'BYE "Disconnected for inactivity"\r\n',
    );
  });
});
