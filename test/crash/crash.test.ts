/**
 * Crash safety: SMTP, IMAP APPEND and JMAP Email/import clients load the server while it is
 * killed with SIGKILL at random moments and restarted on the same data. Afterwards every
 * acknowledged message is stored exactly once, nothing unacknowledged is half there, the
 * database passes `PRAGMA integrity_check`, and every acknowledged message for a remote
 * recipient reached the remote MX (a resend after a crash between its 250 and our commit is
 * the one allowed duplicate: counted and printed).
 *
 * The short variant always runs; POSTERN_TEST_LONG=1 runs ten crashes and a few thousand messages.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createClient } from "@libsql/client";
import { join } from "node:path";
import { createSecureContext, createSelfSigned } from "../../src/net/certificate.ts";
import { listen, type Listener } from "../../src/net/listener.ts";
import { smtpHandler } from "../../src/smtp/server.ts";
import { type MailServer, startMailServer } from "../helpers/mail-server.ts";
import { runtime } from "../helpers/runtime.ts";
import { imapLoad, jmapLoad, smtpLoad, type Tally } from "./load.ts";

const LONG = process.env.POSTERN_TEST_LONG === "1";
const CRASHES = LONG ? 10 : 3;
const GAP_MS: [number, number] = LONG ? [2000, 4000] : [800, 1600];
const SMTP_CLIENTS = LONG ? 24 : 5;
const PASSWORD = "jo-crash-password";

/** The remote MX: counts each Message-ID it is handed. */
const remote = new Map<string, number>();
let mx: Listener;
let mail: MailServer;

beforeAll(async () => {
  mx = await listen({
    name: "remote-mx",
    host: "127.0.0.1",
    port: 0,
    tls: "none",
    secureContext: createSecureContext(await createSelfSigned("mx.sink.test")),
    maxConnectionsPerIp: 100,
    idleTimeoutMs: 30_000,
    handler: smtpHandler(
      {
        hostname: "mx.sink.test",
        role: "mx",
        maxMessageSize: 1_000_000,
        maxRecipients: 100,
        maxErrors: 20,
        maxCommands: 100_000,
        maxAuthFailures: 3,
        allowPlaintextAuth: false,
        maxLineLength: 4096,
        commandTimeoutMs: 30_000,
        dataTimeoutMs: 30_000,
      },
      {
        authenticate: async () => null,
        mayUseSender: async () => true,
        checkRecipient: async () => "accept",
        async deliver(_transaction, content) {
          const id = /Message-ID: <([^>]+)>/i.exec(new TextDecoder().decode(content))?.[1] ?? "?";
          remote.set(id, (remote.get(id) ?? 0) + 1);
          return { ok: true };
        },
      },
    ),
  });
  mail = await startMailServer({
    waitFor: ["smtp", "imap", "http"],
    users: { "jo@example.test": PASSWORD },
    config: {
      auth: { allowPlaintext: true },
      limits: { connectionsPerIp: 500 },
      delivery: { transport: { "sink.test": `127.0.0.1:${mx.address().port}` }, retryDelay: 1 },
    },
    setup: [["alias", "add", "fwd@example.test", "r@sink.test"]],
  });
}, 60_000);

afterAll(async () => {
  await mail?.stop();
  await mx?.close(0);
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const bare = (id: unknown) => String(id).replace(/^<|>$/g, "");

describe(`crash safety on ${runtime()}`, () => {
  test(`${CRASHES} SIGKILLs under SMTP, IMAP APPEND and JMAP load lose nothing acknowledged`, async () => {
    const tally = {
      smtp: { acked: new Set(), tried: new Set() } as Tally,
      forwarded: { acked: new Set(), tried: new Set() } as Tally,
      imap: { acked: new Set(), tried: new Set() } as Tally,
      jmap: { acked: new Set(), tried: new Set() } as Tally,
    };
    let stopped = false;
    const options = { ports: () => mail.server.ports, stopped: () => stopped, password: PASSWORD };
    const clients = [
      ...Array.from({ length: SMTP_CLIENTS }, () => smtpLoad(options, tally.smtp, () => "jo@example.test")),
      smtpLoad(options, tally.forwarded, () => "fwd@example.test"),
      imapLoad(options, tally.imap),
      jmapLoad(options, tally.jmap),
    ];
    for (let i = 0; i < CRASHES; i++) {
      await sleep(GAP_MS[0] + Math.random() * (GAP_MS[1] - GAP_MS[0]));
      await mail.server.restart("SIGKILL");
    }
    await sleep(GAP_MS[0]);
    stopped = true;
    await Promise.all(clients);

    // The queue drains to the remote MX after the restarts.
    for (let i = 0; i < 300 && [...tally.forwarded.acked].some((id) => !remote.has(id as string)); i++) {
      await sleep(100);
    }

    const db = createClient({ url: `file:${join(mail.dataDir, "postern.db")}` });
    try {
      expect((await db.execute("PRAGMA integrity_check")).rows[0]![0]).toBe("ok");
      const stored = new Map<string, number>();
      for (
        const row of (await db.execute("SELECT e.message_id FROM messages m JOIN emails e ON e.id = m.email_id")).rows
      ) stored.set(bare(row[0]), (stored.get(bare(row[0])) ?? 0) + 1);

      for (const kind of ["smtp", "imap", "jmap"] as const) {
        const { acked, tried } = tally[kind];
        expect(acked.size).toBeGreaterThan(0);
        const missing = [...acked].filter((id) => stored.get(id as string) !== 1);
        expect({ kind, missing }).toEqual({ kind, missing: [] });
        // Unacknowledged: there or not, but never twice.
        const twice = [...tried].filter((id) => (stored.get(id as string) ?? 0) > 1);
        expect({ kind, twice }).toEqual({ kind, twice: [] });
      }
      // No row without its blob, no blob without a holder (a message, a queue item or a live upload).
      const orphanRows = await db.execute(
        "SELECT count(*) FROM emails e LEFT JOIN blobs b ON b.hash = e.blob_hash WHERE b.hash IS NULL",
      );
      expect(orphanRows.rows[0]![0]).toBe(0);
      const orphanBlobs = await db.execute(
        "SELECT count(*) FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM emails e WHERE e.blob_hash = b.hash) AND NOT EXISTS (SELECT 1 FROM queue q WHERE q.blob_hash = b.hash) AND NOT EXISTS (SELECT 1 FROM uploads u WHERE u.hash = b.hash)",
      );
      expect(orphanBlobs.rows[0]![0]).toBe(0);
      // Every email is in a mailbox, and every membership has its email.
      const homeless = await db.execute(
        "SELECT count(*) FROM emails e WHERE NOT EXISTS (SELECT 1 FROM messages m WHERE m.email_id = e.id)",
      );
      expect(homeless.rows[0]![0]).toBe(0);
      // Each mailbox's counters cover its rows: UIDNEXT above every UID, HIGHESTMODSEQ at least every MODSEQ.
      const counters = await db.execute(
        "SELECT count(*) FROM mailboxes b WHERE b.uid_next <= (SELECT coalesce(max(uid), 0) FROM messages m WHERE m.mailbox_id = b.id) OR b.highest_modseq < (SELECT coalesce(max(modseq), 0) FROM messages m WHERE m.mailbox_id = b.id)",
      );
      expect(counters.rows[0]![0]).toBe(0);

      // The outbound queue: every acknowledged message reached the remote MX; duplicates are counted.
      const lost = [...tally.forwarded.acked].filter((id) => !remote.has(id as string));
      expect(lost).toEqual([]);
      const duplicates = [...remote.values()].filter((n) => n > 1).length;
      const pending = await db.execute("SELECT count(*) FROM queue_recipients WHERE status = 'pending'");
      expect(pending.rows[0]![0]).toBe(0);
      console.log(
        `crash test: ${CRASHES} SIGKILLs; acknowledged smtp ${tally.smtp.acked.size}/${tally.smtp.tried.size}, imap ${tally.imap.acked.size}/${tally.imap.tried.size}, ` +
          `jmap ${tally.jmap.acked.size}/${tally.jmap.tried.size}, forwarded ${tally.forwarded.acked.size}/${tally.forwarded.tried.size}; ` +
          `remote MX got ${remote.size} distinct, ${duplicates} resent after a crash`,
      );
      expect(duplicates).toBeLessThanOrEqual(CRASHES);
    } finally {
      db.close();
    }
  }, LONG ? 600_000 : 120_000);
});
