/**
 * Configured certificate files (`tls.cert`/`tls.key`) are taken without a restart (issue 20, item 2):
 * when they change on disk, at once on SIGHUP, and never half — a certificate without its key keeps
 * the old pair in service.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect as tlsConnect } from "node:tls";
import { createSelfSigned } from "../../src/net/certificate.ts";
import { LineClient } from "../helpers/line-client.ts";
import { runtime } from "../helpers/runtime.ts";
import { type ServerProcess, startServer } from "../helpers/server.ts";
import { tempDir } from "../helpers/tmp.ts";

let files: ReturnType<typeof tempDir>;
let server: ServerProcess;
const certFile = () => join(files.path, "cert.pem");
const keyFile = () => join(files.path, "key.pem");

async function install(name: string, parts: "both" | "cert" = "both"): Promise<{ cert: string; key: string }> {
  const pem = await createSelfSigned(name);
  writeFileSync(certFile(), pem.cert);
  if (parts === "both") writeFileSync(keyFile(), pem.key);
  return pem;
}

/** The DNS name in the certificate the listener presents to a new connection. */
function presented(port: number, options: { servername?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false, ...options }, () => {
      const san = socket.getPeerCertificate().subjectaltname ?? "";
      socket.destroy();
      resolve(san.replace(/^DNS:/, ""));
    });
    socket.on("error", reject);
  });
}

/** The DNS name in the certificate a plain SMTP listener presents after STARTTLS (RFC 3207). */
async function presentedAfterStartTls(port: number): Promise<string> {
  const client = await LineClient.connect(port);
  try {
    await client.reply();
    await client.line("EHLO client.test");
    await client.reply();
    await client.line("STARTTLS");
    expect((await client.reply()).at(-1)).toStartWith("220");
    const secure = await client.startTls();
    return (secure.getPeerCertificate().subjectaltname ?? "").replace(/^DNS:/, "");
  } finally {
    client.close();
  }
}

/**
 * Waits until `name` is what new connections get, from every process: `postern serve` runs a worker
 * per core, and the kernel spreads connections over them, so ten in a row must agree.
 */
async function waitForName(port: number, name: string, timeoutMs: number): Promise<number> {
  const started = Date.now();
  let agreeing = 0;
  while (agreeing < 10) {
    // A connection reset while a process swaps its certificate counts as not agreeing yet.
    agreeing = (await presented(port).catch(() => "")) === name ? agreeing + 1 : 0;
    if (Date.now() - started > timeoutMs) throw new Error(`still not ${name} after ${timeoutMs} ms:\n${server.log()}`);
    if (agreeing === 0) await Bun.sleep(50);
  }
  return Date.now() - started;
}

async function waitForLog(pattern: RegExp, from = 0): Promise<void> {
  for (let i = 0; i < 200 && !pattern.test(server.log().slice(from)); i++) await Bun.sleep(25);
  expect(server.log().slice(from)).toMatch(pattern);
}

beforeAll(async () => {
  files = tempDir();
  await install("one.test");
  server = await startServer({
    config: { tls: { cert: certFile(), key: keyFile() } },
    waitFor: ["imaps", "submission"],
  });
}, 60_000);
afterAll(async () => {
  await server?.stop();
  files?.cleanup();
});

describe(`certificate files reloaded on ${runtime()}`, () => {
  test("a new pair on disk is presented to new connections, without a restart", async () => {
    expect(await presented(server.ports.imaps!)).toBe("one.test");
    // Seen through STARTTLS too (the last test checks it takes the reloaded pair, not the first it used).
    expect(await presentedAfterStartTls(server.ports.submission!)).toBe("one.test");
    await install("two.test");
    await waitForName(server.ports.imaps!, "two.test", 10_000);
    await waitForLog(/certificate loaded"? reason="file changed" names=two\.test/);
  });

  test("a certificate without its new key keeps the old pair until the key follows", async () => {
    const before = server.log().length;
    await install("three.test", "cert");
    // The pair does not match: refused, logged, the old certificate stays.
    await waitForLog(/certificate files not loaded/, before);
    expect(await presented(server.ports.imaps!)).toBe("two.test");
    const pem = await createSelfSigned("four.test");
    writeFileSync(keyFile(), pem.key);
    writeFileSync(certFile(), pem.cert);
    await waitForName(server.ports.imaps!, "four.test", 10_000);
  });

  test("SIGHUP takes new files at once", async () => {
    await install("five.test");
    server.proc.kill("SIGHUP");
    // Well inside the 2 s poll: the signal did it.
    expect(await waitForName(server.ports.imaps!, "five.test", 1500)).toBeLessThan(1500);
    await waitForLog(/reloading certificates"? signal=SIGHUP/);
    expect(server.proc.exitCode).toBeNull();
  });

  test("STARTTLS on the submission listener presents the reloaded pair as well", async () => {
    // Every process took five.test above; its STARTTLS takes the certificate per connection too.
    for (let i = 0; i < 5; i++) expect(await presentedAfterStartTls(server.ports.submission!)).toBe("five.test");
  });
});
