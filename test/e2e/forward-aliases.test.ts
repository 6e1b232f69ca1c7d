/**
 * The forward-only alias service end to end (issue 19): `postern serve` (on the runtime named by
 * POSTERN_TEST_RUNTIME) forwards through `delivery.transport` `"*"` to a remote MX in this
 * process — no DNS record names it — takes bounces back for senders at hyphenated domains
 * (SRS0 and SRS1, hashes with `+` and `/`), and posts to a plain-HTTP webhook on loopback. A
 * disabled alias is refused at RCPT; a pattern alias matches and an exact one wins over it; the
 * counters in `postern alias list` follow.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import nodemailer from "nodemailer";
import { Srs } from "../../src/forward/srs.ts";
import { listen, type Listener } from "../../src/net/listener.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { RecordingBackend, remoteMxOptions } from "../helpers/remote-mx.ts";
import { runtime } from "../helpers/runtime.ts";
import { until } from "../helpers/until.ts";

const SRS_SECRET = "srs-secret-for-alias-tests";
const HOSTNAME = "mx.postern.test";

const remote = new RecordingBackend();
const hooks: Array<{ envelope: { from: string; to: string; srsFrom?: string }; message: { subject: string } }> = [];
let hookServer: ReturnType<typeof Bun.serve>;
let mx: Listener;
let mail: MailServer;

beforeAll(async () => {
  mx = await listen(await remoteMxOptions(remote));
  hookServer = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      hooks.push(await request.json());
      return new Response(null, { status: 204 });
    },
  });
  mail = await startMailServer({
    waitFor: ["smtp"],
    users: {},
    config: {
      hostname: HOSTNAME,
      // No MX records anywhere: "*" is the only way out (issue 19, bug 3).
      delivery: { transport: { "*": `127.0.0.1:${mx.address().port}` }, retryDelay: 1 },
      srs: { secret: SRS_SECRET },
      webhooks: { secret: "webhook-secret-for-alias-tests" },
      // The webhook endpoint is on loopback (issue 18: private targets need the switch).
      outbound: { allowPrivateTargets: ["127.0.0.1", "::1"] },
    },
    setup: [
      ["domain", "add", "alias-domain.test", "--forward"],
      ["alias", "add", "friend@alias-domain.test", "me@real-mailbox.test"],
      // Plain HTTP to loopback needs no switch (issue 19, bug 4).
      ["alias", "add", "hook@alias-domain.test", `http://127.0.0.1:${hookServer.port}/incoming`],
      ["alias", "add", "shop-*@alias-domain.test", "shopping@real-mailbox.test"],
      ["alias", "add", "shop-special@alias-domain.test", "special@real-mailbox.test"],
      ["alias", "add", "leaked@alias-domain.test", "me@real-mailbox.test"],
      ["alias", "disable", "leaked@alias-domain.test"],
    ],
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
  hookServer?.stop(true);
});

function inbound(from: string, to: string[], subject: string) {
  return nodemailer
    .createTransport({ host: "127.0.0.1", port: mail.server.ports.smtp, ignoreTLS: true, name: "mx.origin.test" })
    .sendMail({
      envelope: { from, to },
      raw: `From: ${from || "MAILER-DAEMON@remote.test"}\r\nTo: ${to.join(", ")}\r\nSubject: ${subject}\r\n\r\nhi\r\n`,
    });
}

const bySubject = (subject: string) => () => remote.received.find((r) => r.content.includes(`Subject: ${subject}\r\n`));

/** Senders at hyphenated domains whose SRS hash (under our secret, today) holds `+`, `/`, or neither. */
function hyphenatedSenders(): string[] {
  const srs = new Srs({ secret: SRS_SECRET, domain: HOSTNAME });
  const want: Array<(hash: string) => boolean> = [(h) => h.includes("+"), (h) => h.includes("/"), () => true];
  const found: string[] = [];
  for (let i = 0; found.length < want.length && i < 5000; i++) {
    const sender = `Jane.Doe-${i}@mail.my-company-${i % 7}.test`;
    if (want[found.length]!(srs.forward(sender).slice(5, 9))) found.push(sender);
  }
  return found;
}

describe(`forward-only aliases on ${runtime()}`, () => {
  test('a forward goes through the "*" transport host with an SRS0 sender', async () => {
    await inbound("someone@origin-site.test", ["friend@alias-domain.test"], "through star");
    const got = await until("the forwarded copy", bySubject("through star"));
    expect(got.transaction.sender).toMatch(
      /^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=origin-site\.test=someone@mx\.postern\.test$/,
    );
    expect(got.transaction.recipients.map((r) => r.address)).toEqual(["me@real-mailbox.test"]);
  });

  test("a bounce for a sender at a hyphenated domain comes back to that sender, whatever its hash holds", async () => {
    const senders = hyphenatedSenders();
    expect(senders).toHaveLength(3);
    for (const [i, sender] of senders.entries()) {
      await inbound(sender, ["friend@alias-domain.test"], `hyphen ${i}`);
      const forwarded = await until(`forward ${i}`, bySubject(`hyphen ${i}`));
      await inbound("", [forwarded.transaction.sender], `bounce ${i}`);
      const back = await until(`bounce ${i} at the sender`, bySubject(`bounce ${i}`));
      expect(back.transaction.sender).toBe("");
      expect(back.transaction.recipients.map((r) => r.address)).toEqual([sender]);
    }
  });

  test("an SRS0 sender from a hyphenated first hop is forwarded as SRS1, and its bounce goes to that hop", async () => {
    const first = new Srs({ secret: "someone-else", domain: "first-hop.test" }).forward("u@orig-x.test");
    await inbound(first, ["friend@alias-domain.test"], "srs1 forward");
    const forwarded = await until("the SRS1 forward", bySubject("srs1 forward"));
    expect(forwarded.transaction.sender).toMatch(/^SRS1=[A-Za-z0-9+/]{4}=first-hop\.test==/);
    await inbound("", [forwarded.transaction.sender], "srs1 bounce");
    const back = await until("the SRS1 bounce at the first hop", bySubject("srs1 bounce"));
    expect(back.transaction.recipients.map((r) => r.address)).toEqual([first]);
  });

  test("a plain-HTTP webhook on loopback gets the original sender, and the SRS address beside it", async () => {
    await inbound("Writer@some-origin.test", ["hook@alias-domain.test"], "to the hook");
    const call = await until("the webhook call", () => hooks.find((h) => h.message.subject === "to the hook"));
    expect(call.envelope).toMatchObject({ from: "Writer@some-origin.test", to: "hook@alias-domain.test" });
    expect(call.envelope.srsFrom).toMatch(/^SRS0=[^=]{4}=[A-Z2-7]{2}=some-origin\.test=Writer@mx\.postern\.test$/);
  });

  test("a disabled alias is refused at RCPT with 550 5.1.1, and counted", async () => {
    const error = await inbound("spam@origin-site.test", ["leaked@alias-domain.test"], "to a leak").catch((
      e: { response?: string },
    ) => e.response);
    expect(error).toMatch(/^550 5\.1\.1/);
    const list = await mail.server.cli(["alias", "list"]);
    expect(list.stdout).toMatch(
      /^leaked@alias-domain\.test\tme@real-mailbox\.test\tdisabled\tforwarded=0\trefused=1\tlast-used=20/m,
    );
    expect(remote.received.some((r) => r.content.includes("Subject: to a leak"))).toBe(false);
  });

  test("a pattern alias matches, an exact one wins over it, and each counts what it forwarded", async () => {
    await inbound("buyer@origin-site.test", ["shop-amazon@alias-domain.test"], "pattern hit");
    await inbound("buyer@origin-site.test", ["shop-special@alias-domain.test"], "exact hit");
    const pattern = await until("the pattern forward", bySubject("pattern hit"));
    const exact = await until("the exact forward", bySubject("exact hit"));
    expect(pattern.transaction.recipients.map((r) => r.address)).toEqual(["shopping@real-mailbox.test"]);
    expect(exact.transaction.recipients.map((r) => r.address)).toEqual(["special@real-mailbox.test"]);
    const lines = (await mail.server.cli(["alias", "list"])).stdout.split("\n");
    expect(lines.find((l) => l.startsWith("shop-*@"))).toContain("\tforwarded=1\t");
    expect(lines.find((l) => l.startsWith("shop-special@"))).toContain("\tforwarded=1\t");
  });
});
