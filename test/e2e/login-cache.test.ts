/**
 * The cache of verified credentials seen from an IMAP client of `postern serve`: the first LOGIN
 * of an account pays for scrypt, later ones do not, and a password changed by `postern user
 * passwd` (another process, the same database) is refused on the very next LOGIN.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { LineClient } from "../helpers/line-client.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer;

beforeAll(async () => {
  mail = await startMailServer({ waitFor: ["imaps"], users: { "kim@example.test": "kim-password-1" } });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

/** One session: LOGIN, timed from the command to its tagged reply, then LOGOUT. */
async function login(password: string): Promise<{ reply: string; ms: number }> {
  const client = await LineClient.connect(mail.server.ports.imaps!, { tls: true });
  try {
    await client.readLine();
    const started = performance.now();
    await client.line(`a LOGIN kim@example.test "${password}"`);
    const lines = await client.readUntil((l) => l.startsWith("a "));
    const ms = performance.now() - started;
    await client.line("z LOGOUT");
    await client.readUntil((l) => l.startsWith("z "));
    return { reply: lines.at(-1)!, ms };
  } finally {
    client.close();
  }
}

describe(`LOGIN with the credential cache on ${runtime()}`, () => {
  test("later LOGINs skip scrypt; a password changed through the store is refused at once", async () => {
    const first = await login("kim-password-1");
    expect(first.reply).toStartWith("a OK");
    const later: number[] = [];
    for (let i = 0; i < 5; i++) {
      const again = await login("kim-password-1");
      expect(again.reply).toStartWith("a OK");
      later.push(again.ms);
    }
    const median = later.sort((a, b) => a - b)[2]!;
    // scrypt (N = 2^15) alone takes tens of milliseconds; a cached LOGIN is a row read or two.
    expect(median * 4).toBeLessThan(first.ms);

    const changed = await mail.server.cli(["user", "passwd", "kim@example.test", "--password", "kim-password-2"]);
    expect(changed.code).toBe(0);
    expect((await login("kim-password-1")).reply).toStartWith("a NO");
    expect((await login("kim-password-2")).reply).toStartWith("a OK");
    expect((await login("kim-password-1")).reply).toStartWith("a NO");
  });
});
