/**
 * The JMAP EventSource's ping timer ends with the connection (issue 22): a client that asked for a long ping
 * interval and left must not keep the server process alive. Before the fix, `postern serve` waited for the
 * pending timer (up to the 600 s maximum) before it could exit on SIGTERM.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { type JmapSession, jmapSession } from "../helpers/jmap.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";

let mail: MailServer | undefined;
let jo: JmapSession;

beforeAll(async () => {
  mail = await startMailServer({ waitFor: ["http"], users: { "jo@example.test": "jo-password" } });
  jo = await jmapSession(mail, "jo@example.test", "jo-password");
}, 60_000);

afterAll(async () => {
  await mail?.stop();
});

describe(`JMAP EventSource ping timer on ${runtime()}`, () => {
  test("a client that asked for pings every 600 s and left does not delay the server's exit", async () => {
    for (let i = 0; i < 3; i++) {
      const abort = new AbortController();
      const res = await fetch(`${jo.base}/jmap/eventsource?types=*&closeafter=no&ping=600`, {
        headers: { authorization: jo.authorization },
        signal: abort.signal,
      });
      const reader = res.body!.getReader();
      // The first state event, then the client goes away while the server waits for the next ping.
      expect(new TextDecoder().decode((await reader.read()).value)).toContain("event: state");
      abort.abort();
      await reader.cancel().catch(() => {});
    }
    await Bun.sleep(300);
    const started = performance.now();
    const server = mail!;
    mail = undefined;
    await server.stop();
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 30_000);
});
