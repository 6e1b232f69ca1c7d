/**
 * ManageSieve (RFC 5804) over a real socket against `postern serve` (Bun or Deno, POSTERN_TEST_RUNTIME): a scripted
 * session that goes through every command and its error cases — greeting, STARTTLS with the capabilities sent again,
 * AUTHENTICATE refused without TLS, PLAIN with a literal, scripts put, listed, fetched, activated, renamed, checked
 * and deleted, the quota codes, literals over the limits, LOGOUT — and a script put here is run at delivery; and
 * CHECKSCRIPT the way Thunderbird's Sieve add-on sends it while a script is edited.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { readInbox } from "../helpers/mailbox.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({
    waitFor: ["smtp", "managesieve"],
    users: { "ms@example.test": "ms-password" },
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

const enc = new TextEncoder();
const PLAIN = btoa("\0ms@example.test\0ms-password");

/** Reads lines up to and including the next OK/NO/BYE; a literal's lines are read whole. */
async function reply(client: LineClient): Promise<string> {
  const lines = await client.readUntil((l) => /^(OK|NO|BYE)\b/.test(l));
  return lines.join("\n");
}

async function connect(): Promise<LineClient> {
  const client = await LineClient.connect(mail.server.ports.managesieve!);
  await reply(client);
  return client;
}

/** A plain connection taken through STARTTLS and AUTHENTICATE PLAIN. */
async function login(): Promise<LineClient> {
  const client = await connect();
  await client.line("STARTTLS");
  expect(await reply(client)).toBe('OK "Begin TLS negotiation now"');
  await client.startTls();
  expect(await reply(client)).toEndWith('OK "TLS negotiation successful"');
  await client.line(`AUTHENTICATE "PLAIN" {${PLAIN.length}+}`);
  await client.line(PLAIN);
  expect(await reply(client)).toBe('OK "Authenticated"');
  return client;
}

describe(`ManageSieve (${runtime()})`, () => {
  test("greeting, STARTTLS and the capabilities again, no password without TLS", async () => {
    const client = await LineClient.connect(mail.server.ports.managesieve!);
    const greeting = await reply(client);
    expect(greeting).toStartWith('"IMPLEMENTATION" "Postern"\n"SASL" ""\n"SIEVE" "fileinto ');
    expect(greeting).toContain('\n"STARTTLS"\n"MAXREDIRECTS" "4"\n');
    expect(greeting).toContain('\n"VERSION" "1.0"\n');
    expect(greeting).toEndWith('OK "mx.postern.test ManageSieve ready"');
    await client.line(`AUTHENTICATE "PLAIN" "${PLAIN}"`);
    expect(await reply(client)).toBe('NO (ENCRYPT-NEEDED) "Authentication needs TLS; use STARTTLS"');
    await client.line("LISTSCRIPTS");
    expect(await reply(client)).toBe('NO "LISTSCRIPTS is not allowed before authentication"');
    await client.line("STARTTLS");
    expect(await reply(client)).toBe('OK "Begin TLS negotiation now"');
    await client.startTls();
    const again = await reply(client);
    expect(again).toContain('"SASL" "PLAIN LOGIN"');
    expect(again).not.toContain("STARTTLS");
    await client.line("STARTTLS");
    expect(await reply(client)).toBe('NO "TLS is already active"');
    await client.line("LOGOUT");
    expect(await reply(client)).toBe('OK "Logout complete"');
    await client.closed();
  });

  test("every script command and its errors, over TLS", async () => {
    const client = await login();
    const send = async (line: string) => {
      await client.line(line);
      return reply(client);
    };
    const script = 'require ["fileinto", "mailbox"];\r\nif address :is "from" "boss@remote.test" {\r\n' +
      '  fileinto :create "Boss";\r\n}\r\n';
    const size = enc.encode(script).length;
    expect(await send("CAPABILITY")).toContain('"OWNER" "ms@example.test"');
    expect(await send(`HAVESPACE "boss" ${size}`)).toBe('OK "Putscript would succeed"');
    expect(await send('HAVESPACE "boss" 99999999')).toStartWith("NO (QUOTA/MAXSIZE)");
    await client.send(`PUTSCRIPT "boss" {${size}+}\r\n${script}\r\n`);
    expect(await reply(client)).toBe('OK "Putscript completed"');
    // A synchronising literal as well: ManageSieve has no continuation, the bytes follow at once.
    await client.send('PUTSCRIPT "second" {5}\r\nkeep;\r\n');
    expect(await reply(client)).toBe('OK "Putscript completed"');
    expect(await send("LISTSCRIPTS")).toBe('"boss"\n"second"\nOK "Listscripts completed"');
    await client.line('GETSCRIPT "boss"');
    const got = await client.readUntil((l) => l.startsWith("OK"));
    expect(got.join("\r\n")).toBe(`{${size}}\r\n${script}\r\nOK "Getscript completed"`);
    expect(await send('GETSCRIPT "nope"')).toBe('NO (NONEXISTENT) "There is no script named nope"');
    expect(await send('SETACTIVE "boss"')).toBe('OK "Setactive completed"');
    expect(await send('SETACTIVE "nope"')).toBe('NO (NONEXISTENT) "There is no script named nope"');
    expect(await send('DELETESCRIPT "boss"')).toBe('NO (ACTIVE) "Script boss is active; deactivate it first"');
    expect(await send('RENAMESCRIPT "second" "boss"')).toBe(
      'NO (ALREADYEXISTS) "A script named boss already exists"',
    );
    expect(await send('RENAMESCRIPT "second" "third"')).toBe('OK "Renamescript completed"');
    expect(await send("LISTSCRIPTS")).toBe('"boss" ACTIVE\n"third"\nOK "Listscripts completed"');
    expect(await send('DELETESCRIPT "third"')).toBe('OK "Deletescript completed"');
    expect(await send('DELETESCRIPT "third"')).toBe('NO (NONEXISTENT) "There is no script named third"');

    // CHECKSCRIPT and PUTSCRIPT refuse a broken script with the line and column of the error.
    const broken = "if true {\r\n  keep\r\n}\r\n";
    await client.send(`CHECKSCRIPT {${broken.length}+}\r\n${broken}\r\n`);
    expect(await reply(client)).toMatch(/^NO "line 3, column 1: /);
    await client.send(`PUTSCRIPT "broken" {${broken.length}+}\r\n${broken}\r\n`);
    expect(await reply(client)).toMatch(/^NO "line 3, column 1: /);
    expect(await send('CHECKSCRIPT "keep;"')).toBe('OK "Script is valid"');
    expect(await send('PUTSCRIPT "bad/name" "keep;"')).toStartWith('NO "Invalid script name');

    // A literal over the script limit is read past and refused; the session goes on.
    const big = 1024 * 1024 + 1;
    await client.send(`PUTSCRIPT "big" {${big}+}\r\n${"#".repeat(big)}\r\n`);
    expect(await reply(client)).toBe('NO (QUOTA/MAXSIZE) "Script too large"');
    expect(await send('NOOP "t1"')).toBe('OK (TAG "t1") "Done"');
    expect(await send("FROB")).toBe('NO "Unknown command FROB"');
    expect(await send("HAVESPACE")).toBe('NO "HAVESPACE takes 2 arguments"');

    // The active script runs at delivery.
    const smtp = nodemailer.createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true });
    await smtp.sendMail({
      envelope: { from: "boss@remote.test", to: ["ms@example.test"] },
      raw: "From: boss@remote.test\r\nTo: ms@example.test\r\nSubject: from the boss\r\n\r\nhi\r\n",
    });
    await smtp.sendMail({
      envelope: { from: "other@remote.test", to: ["ms@example.test"] },
      raw: "From: other@remote.test\r\nTo: ms@example.test\r\nSubject: from someone else\r\n\r\nhi\r\n",
    });
    const inbox = await readInbox(mail.dataDir, "ms@example.test");
    expect(inbox.map((m) => /Subject: (.*)\r\n/.exec(m.raw)?.[1])).toEqual(["from someone else"]);

    expect(await send('SETACTIVE ""')).toBe('OK "Setactive completed"');
    expect(await send('DELETESCRIPT "boss"')).toBe('OK "Deletescript completed"');
    expect(await send("UNAUTHENTICATE")).toBe('OK "Unauthenticated"');
    expect(await send("LISTSCRIPTS")).toBe('NO "LISTSCRIPTS is not allowed before authentication"');
    await client.line(`AUTHENTICATE "PLAIN" "${btoa("\0ms@example.test\0wrong")}"`);
    expect(await reply(client)).toBe('NO "Authentication failed"');
    expect(await send("LOGOUT")).toBe('OK "Logout complete"');
    await client.closed();
  }, 60_000);

  test("Thunderbird-style CHECKSCRIPT: the add-on's literal (UTF-8, CRLF), the error's line and column, nothing stored", async () => {
    // What the Sieve add-on for Thunderbird sends while a script is edited: the text with every line break made CRLF,
    // as a non-synchronising literal counted in bytes, and it shows the NO text (or takes OK) without storing anything.
    const client = await login();
    const check = async (text: string) => {
      const body = text.replace(/\r\n|\r|\n/g, "\r\n");
      await client.send(`CHECKSCRIPT {${enc.encode(body).length}+}\r\n${body}\r\n`);
      return reply(client);
    };
    const valid =
      'require ["fileinto"];\n# Müller & Söhne\nif header :contains "subject" "Grüße" {\n  fileinto "Grüße";\n}\n';
    expect(await check(valid)).toBe('OK "Script is valid"');
    expect(await check(valid.replaceAll("\n", "\r"))).toBe('OK "Script is valid"');
    // An error after non-ASCII text: the line counts CRLFs, the column characters (20, not the 22nd byte).
    const broken = 'require ["fileinto"];\n# Grüße\nif true {\n  fileinto "Grüße" :grr;\n}\n';
    expect(await check(broken)).toBe(
      `NO "line 4, column 20: tag ':grr' must come before the positional arguments of 'fileinto'"`,
    );
    expect(await check('require "nosuch";\n')).toBe(`NO "line 1, column 9: unknown extension 'nosuch'"`);
    // CHECKSCRIPT stores nothing.
    await client.line("LISTSCRIPTS");
    expect(await reply(client)).toBe('OK "Listscripts completed"');
    await client.line("LOGOUT");
    expect(await reply(client)).toBe('OK "Logout complete"');
    await client.closed();
  });

  test("before login a large literal closes the connection without being read", async () => {
    const client = await connect();
    await client.send('AUTHENTICATE "PLAIN" {100000+}\r\n');
    expect(await reply(client)).toBe('BYE "Literal too large before login"');
    await client.closed();
  });

  test("a SASL exchange over two lines, LOGIN, and cancel", async () => {
    const client = await login();
    await client.line("UNAUTHENTICATE");
    await reply(client);
    await client.line('AUTHENTICATE "LOGIN"');
    expect(await client.readLine()).toBe(`"${btoa("Username:")}"`);
    await client.line(`"${btoa("ms@example.test")}"`);
    expect(await client.readLine()).toBe(`"${btoa("Password:")}"`);
    await client.line(`"${btoa("ms-password")}"`);
    expect(await reply(client)).toBe('OK "Authenticated"');
    await client.line("UNAUTHENTICATE");
    await reply(client);
    await client.line('AUTHENTICATE "PLAIN"');
    expect(await client.readLine()).toBe('""');
    await client.line('"*"');
    expect(await reply(client)).toBe('NO "Authentication cancelled"');
    client.close();
  });
});
